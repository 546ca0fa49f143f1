/**
 * `ustack report merge DIR... --output DIR [--title T] [--max-stacks N] [--formats json,markdown,folded,html] [--force]`
 * Merges the report.json of sharded Jest runs and regenerates every output from the merged data.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError, UstackError } from '../errors';
import { mergeReports, readReport } from '../report/merge';
import { parseFormats, type ReportFormat } from '../report/options';
import { writeReport } from '../report/write';

export const USAGE = `Usage: ustack report merge DIR... --output DIR [options]

Merges the report.json files that the jest-ustack reporter wrote in sharded runs
(jest --shard=1/4 ... --shard=4/4) and writes report.json, summary.md, stacks.folded
and index.html for the whole suite. Each DIR is a report folder or a report.json file.

Options:
  -o, --output DIR       folder for the merged report (required)
  --title TEXT           heading of the merged report (default: the first report's)
  --max-stacks N         merged call paths listed per hook in summary.md (default 20)
  --formats LIST         comma-separated subset of json,markdown,folded,html (default all)
  --github-summary       also append summary.md to $GITHUB_STEP_SUMMARY
  --force                merge even when a test file is in more than one input (the
                         last input's copy is kept) or when --output is an input folder
  -h, --help             show this help
`;

interface MergeArgs {
  inputs: string[];
  output: string;
  title?: string;
  maxStacks?: number;
  formats?: ReportFormat[];
  githubSummary: boolean;
  force: boolean;
}

function parseMergeArgs(args: string[]): MergeArgs {
  const inputs: string[] = [];
  let output: string | undefined;
  let title: string | undefined;
  let maxStacks: number | undefined;
  let formats: ReportFormat[] | undefined;
  let githubSummary = false;
  let force = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq > 0) return arg.slice(eq + 1);
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${name} needs a value.\n\n${USAGE}`);
      return v;
    };
    switch (name) {
      case '-o':
      case '--output':
        output = value();
        break;
      case '--title':
        title = value();
        break;
      case '--max-stacks': {
        const v = value();
        const n = Number(v);
        if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--max-stacks must be a positive integer, got "${v}".`);
        maxStacks = n;
        break;
      }
      case '--formats':
        formats = parseFormats('--formats', value());
        break;
      case '--github-summary':
        githubSummary = true;
        break;
      case '--force':
        force = true;
        break;
      default:
        if (arg.startsWith('-') && arg !== '-') throw new UsageError(`Unknown option "${arg}".\n\n${USAGE}`);
        inputs.push(arg);
    }
  }
  if (!output) throw new UsageError(`--output DIR is required.\n\n${USAGE}`);
  if (inputs.length === 0) throw new UsageError(`Give at least one report folder to merge.\n\n${USAGE}`);
  return { inputs, output, title, maxStacks, formats, githubSummary, force };
}

/** The folder a report input lives in: the folder itself, or the folder of a report.json file. */
function reportFolder(input: string): string {
  const abs = path.resolve(input);
  return fs.existsSync(abs) && fs.statSync(abs).isDirectory() ? abs : path.dirname(abs);
}

export async function main(args: string[]): Promise<number> {
  try {
    if (args.length === 0 || args[0] === '-h' || args[0] === '--help' || args[0] === 'help') {
      process.stdout.write(USAGE);
      return args.length === 0 ? 2 : 0;
    }
    if (args[0] !== 'merge') throw new UsageError(`Unknown report command "${args[0]}".\n\n${USAGE}`);
    if (args.includes('-h') || args.includes('--help')) {
      process.stdout.write(USAGE);
      return 0;
    }
    const opts = parseMergeArgs(args.slice(1));
    const outputDir = path.resolve(opts.output);
    const overwritten = opts.inputs.filter((input) => reportFolder(input) === outputDir);
    if (overwritten.length && !opts.force) {
      throw new UsageError(
        `--output ${opts.output} is also an input (${overwritten.join(', ')}): merging would overwrite a shard's report. ` +
          'Write the merged report to a new folder, or pass --force to replace it.',
      );
    }
    const reports = opts.inputs.map(readReport);
    const { report, duplicates } = mergeReports(reports, { title: opts.title });
    if (duplicates.length && !opts.force) {
      throw new UsageError(
        `${duplicates.length === 1 ? 'a test file is' : `${duplicates.length} test files are`} in more than one input (${duplicates.join(', ')}): ` +
          'the same shard was given twice, or the shards overlap. Pass each shard once, or --force to keep the last input\'s copy.',
      );
    }
    for (const d of duplicates) process.stderr.write(`ustack report merge: ${d} is in more than one input; kept the last one (--force).\n`);
    const written = writeReport(report, outputDir, {
      formats: opts.formats,
      maxStacksPerHook: opts.maxStacks,
      githubStepSummary: opts.githubSummary ? process.env.GITHUB_STEP_SUMMARY || null : null,
    });
    const t = report.totals;
    process.stdout.write(
      `Merged ${reports.length} report${reports.length === 1 ? '' : 's'}: ${t.files} test files, ${t.tests} tests, ` +
        `${t.captures} traced runs, ${t.hits} hits, ${t.crashes} crashes\n` +
        Object.values(written.files).map((f) => `  ${path.relative(process.cwd(), f!) || f}\n`).join(''),
    );
    return 0;
  } catch (e) {
    if (e instanceof UstackError) {
      process.stderr.write(`ustack report: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}
