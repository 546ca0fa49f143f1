/**
 * Builds a `UstackReport` from the environment's run files and Jest's results. The Jest shapes
 * are described structurally here so src/report needs no Jest import.
 */
import * as path from 'node:path';
import type { Capture, Frame } from '../capture/types';
import type { TestFileTraces } from './run-files';
import { computeTotals, REPORT_KIND, REPORT_SCHEMA, type ReportFile, type ReportRun, type ReportTest, type TestStatus, type UstackReport } from './model';

/** The parts of Jest's AssertionResult the report uses. */
export interface JestAssertionLike {
  ancestorTitles: string[];
  title: string;
  fullName: string;
  status: string;
  duration?: number | null;
  failureMessages: string[];
}

/** The parts of Jest's TestResult the report uses. */
export interface JestFileResultLike {
  testFilePath: string;
  failureMessage?: string | null;
  testExecError?: { message?: string; stack?: string | null } | null;
  numFailingTests?: number;
  testResults: JestAssertionLike[];
}

export interface BuildReportInput {
  title: string;
  /** Paths under it are written relative to it. */
  rootDir: string;
  traces: TestFileTraces[];
  /** Jest's per-file results; files only present in `traces` are kept with status 'unknown'. */
  results: JestFileResultLike[];
  run: Omit<ReportRun, 'files'>;
  createdAt?: string;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** Failure messages and stack traces name files under rootDir by relative path. */
export function localizeText(text: string, rootDir: string): string {
  const prefix = rootDir.endsWith(path.sep) ? rootDir : rootDir + path.sep;
  return text.split(prefix).join('');
}

export function relativePath(file: string, rootDir: string): string {
  if (!path.isAbsolute(file)) return file.split(path.sep).join('/');
  const rel = path.relative(rootDir, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return file;
  return rel.split(path.sep).join('/');
}

/** Only paths inside rootDir become relative: system libraries keep their absolute paths. */
function localize(p: string | null, rootDir: string): string | null {
  if (p == null || !path.isAbsolute(p)) return p;
  const rel = path.relative(rootDir, p);
  return rel.startsWith('..') || path.isAbsolute(rel) ? p : rel.split(path.sep).join('/');
}

function localizeFrames(frames: Frame[], rootDir: string): Frame[] {
  return frames.map((f) => ({ ...f, module: localize(f.module, rootDir), file: localize(f.file, rootDir) }));
}

/** The capture with paths inside rootDir made relative, so reports of different machines merge and diff. */
export function localizeCapture(capture: Capture, rootDir: string): Capture {
  return {
    ...capture,
    command: capture.command.map((arg) => localize(arg, rootDir) ?? arg),
    hooks: capture.hooks.map((h) => ({ ...h, resolved: h.resolved.map((r) => ({ ...r, module: localize(r.module, rootDir) ?? r.module })) })),
    stacks: capture.stacks.map((s) => ({ ...s, frames: localizeFrames(s.frames, rootDir) })),
    crash: capture.crash ? { ...capture.crash, frames: localizeFrames(capture.crash.frames, rootDir) } : null,
  };
}

const KNOWN_STATUSES: TestStatus[] = ['passed', 'failed', 'skipped', 'pending', 'todo', 'disabled', 'focused'];

function toStatus(s: string | undefined): TestStatus {
  return KNOWN_STATUSES.includes(s as TestStatus) ? (s as TestStatus) : 'unknown';
}

export function buildReport(input: BuildReportInput): UstackReport {
  const tracesByPath = new Map<string, TestFileTraces>();
  for (const t of input.traces) tracesByPath.set(path.resolve(t.testPath), t);
  const files: ReportFile[] = [];
  const seen = new Set<string>();

  for (const result of input.results) {
    const abs = path.resolve(result.testFilePath);
    seen.add(abs);
    const traces = tracesByPath.get(abs);
    // Captures are matched to Jest's tests by full name, in order for repeated names (test.each).
    const pending = new Map<string, TestFileTraces['tests']>();
    for (const t of traces?.tests ?? []) {
      const list = pending.get(t.fullName) ?? [];
      list.push(t);
      pending.set(t.fullName, list);
    }
    const tests: ReportTest[] = result.testResults.map((a) => {
      const traced = pending.get(a.fullName)?.shift();
      return {
        title: [...a.ancestorTitles, a.title],
        fullName: a.fullName,
        status: toStatus(a.status),
        durationMs: a.duration ?? null,
        failureMessages: a.failureMessages.map((m) => localizeText(stripAnsi(m), input.rootDir)),
        captures: (traced?.captures ?? []).map((c) => localizeCapture(c, input.rootDir)),
      };
    });
    // Captures made outside any test Jest reported (beforeAll, afterAll) stay visible: a
    // beforeAll entry goes before the first test of its describe block, the others at the end.
    for (const rest of pending.values()) {
      for (const t of rest) {
        const entry: ReportTest = {
          title: t.title,
          fullName: t.fullName,
          status: toStatus(t.status),
          durationMs: null,
          failureMessages: [],
          captures: t.captures.map((c) => localizeCapture(c, input.rootDir)),
        };
        const block = t.title.slice(0, -1);
        const at = t.title[t.title.length - 1] === '(beforeAll)' ? tests.findIndex((x) => block.every((name, i) => x.title[i] === name) && x.title.length > block.length) : -1;
        if (at >= 0) tests.splice(at, 0, entry);
        else tests.push(entry);
      }
    }
    const execError = result.testExecError ? localizeText(stripAnsi(result.testExecError.stack || result.testExecError.message || ''), input.rootDir) : '';
    const failed = (result.numFailingTests ?? tests.filter((t) => t.status === 'failed').length) > 0 || !!execError;
    const fileMessage = execError || (tests.length === 0 && result.failureMessage ? localizeText(stripAnsi(result.failureMessage), input.rootDir) : '');
    files.push({
      path: relativePath(abs, input.rootDir),
      status: failed ? 'failed' : 'passed',
      failureMessage: fileMessage || null,
      tests,
    });
  }
  for (const [abs, traces] of tracesByPath) {
    if (seen.has(abs)) continue;
    files.push({
      path: relativePath(abs, input.rootDir),
      status: 'unknown',
      failureMessage: null,
      tests: traces.tests.map((t) => ({
        title: t.title,
        fullName: t.fullName,
        status: toStatus(t.status),
        durationMs: null,
        failureMessages: [],
        captures: t.captures.map((c) => localizeCapture(c, input.rootDir)),
      })),
    });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    schema: REPORT_SCHEMA,
    kind: REPORT_KIND,
    title: input.title,
    createdAt: input.createdAt ?? new Date().toISOString(),
    runs: [{ ...input.run, files: files.length }],
    totals: computeTotals(files),
    files,
  };
}
