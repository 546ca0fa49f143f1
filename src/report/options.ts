/**
 * Reporter options: from the reporter tuple (`['jest-ustack/reporter', { outputDir }]`), with
 * USTACK_* environment variables taking precedence so CI can change them without editing config.
 */
import * as path from 'node:path';
import { UsageError } from '../errors';

export type ReportFormat = 'json' | 'markdown' | 'folded' | 'html';
export const ALL_FORMATS: ReportFormat[] = ['json', 'markdown', 'folded', 'html'];

export interface ReporterOptions {
  /** Output folder, relative to the Jest rootDir. Default 'ustack-report'. Env: USTACK_REPORT_DIR. */
  outputDir?: string;
  /** Heading of summary.md and index.html. Default "jest-ustack report: <rootDir name>". Env: USTACK_REPORT_TITLE. */
  title?: string;
  /** Merged call paths listed per hook in summary.md. Default 20. Env: USTACK_REPORT_MAX_STACKS. */
  maxStacksPerHook?: number;
  /** Which files to write. Default all. Env: USTACK_REPORT_FORMATS (comma-separated). */
  formats?: ReportFormat[];
  /** Append summary.md to $GITHUB_STEP_SUMMARY when set. Default true. Env: USTACK_GITHUB_SUMMARY=0 turns it off. */
  githubSummary?: boolean;
  /** Byte limit of summary.md and of what is appended to $GITHUB_STEP_SUMMARY. Default 1 MiB. */
  maxSummaryBytes?: number;
  /** Do not print where the report went. Env: USTACK_REPORT_SILENT=1. */
  silent?: boolean;
}

export interface ResolvedReporterOptions {
  outputDir: string;
  title: string;
  maxStacksPerHook: number;
  formats: ReportFormat[];
  githubSummary: boolean;
  maxSummaryBytes: number;
  silent: boolean;
}

export const ONE_MIB = 1024 * 1024;

function parseBool(name: string, value: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new UsageError(`${name}="${value}" is not a boolean: use 1 or 0.`);
}

function parsePositiveInt(name: string, value: unknown): number {
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive integer, got ${JSON.stringify(value)}.`);
  return n;
}

export function parseFormats(name: string, value: unknown): ReportFormat[] {
  const list = Array.isArray(value) ? value.map(String) : String(value).split(',');
  const formats = list.map((s) => s.trim()).filter(Boolean);
  for (const f of formats) {
    if (!ALL_FORMATS.includes(f as ReportFormat)) throw new UsageError(`${name}: unknown format "${f}"; use any of ${ALL_FORMATS.join(', ')}.`);
  }
  return formats as ReportFormat[];
}

export function resolveReporterOptions(
  options: ReporterOptions | undefined,
  rootDir: string,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedReporterOptions {
  const o = options ?? {};
  const outputDir = env.USTACK_REPORT_DIR || o.outputDir || 'ustack-report';
  return {
    outputDir: path.resolve(rootDir, outputDir),
    title: env.USTACK_REPORT_TITLE || o.title || `jest-ustack report: ${path.basename(rootDir)}`,
    maxStacksPerHook: env.USTACK_REPORT_MAX_STACKS
      ? parsePositiveInt('USTACK_REPORT_MAX_STACKS', env.USTACK_REPORT_MAX_STACKS)
      : o.maxStacksPerHook != null
        ? parsePositiveInt('maxStacksPerHook', o.maxStacksPerHook)
        : 20,
    formats: env.USTACK_REPORT_FORMATS
      ? parseFormats('USTACK_REPORT_FORMATS', env.USTACK_REPORT_FORMATS)
      : o.formats
        ? parseFormats('formats', o.formats)
        : ALL_FORMATS.slice(),
    githubSummary: env.USTACK_GITHUB_SUMMARY ? parseBool('USTACK_GITHUB_SUMMARY', env.USTACK_GITHUB_SUMMARY) : o.githubSummary ?? true,
    maxSummaryBytes: o.maxSummaryBytes != null ? parsePositiveInt('maxSummaryBytes', o.maxSummaryBytes) : ONE_MIB,
    silent: env.USTACK_REPORT_SILENT ? parseBool('USTACK_REPORT_SILENT', env.USTACK_REPORT_SILENT) : o.silent ?? false,
  };
}
