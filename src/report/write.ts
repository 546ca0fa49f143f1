/** Writes every output of a report into its folder (and the GitHub step summary). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { UstackReport } from './model';
import { renderFolded } from './folded';
import { renderHtml } from './html';
import { ALL_FORMATS, ONE_MIB, type ReportFormat } from './options';
import { renderSummary, truncateMarkdown } from './summary';

export interface WriteReportOptions {
  formats?: ReportFormat[];
  maxStacksPerHook?: number;
  maxSummaryBytes?: number;
  /** File to append summary.md to (the value of $GITHUB_STEP_SUMMARY), or null. */
  githubStepSummary?: string | null;
}

export interface WrittenReport {
  outputDir: string;
  /** Absolute paths by format. */
  files: Partial<Record<ReportFormat, string>>;
  /** True when summary.md or the step summary had to be cut. */
  truncated: boolean;
}

export const REPORT_FILES: Record<ReportFormat, string> = {
  json: 'report.json',
  markdown: 'summary.md',
  folded: 'stacks.folded',
  html: 'index.html',
};

function writeAtomic(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}

export function writeReport(report: UstackReport, outputDir: string, options: WriteReportOptions = {}): WrittenReport {
  const formats = options.formats ?? ALL_FORMATS;
  const maxBytes = options.maxSummaryBytes ?? ONE_MIB;
  fs.mkdirSync(outputDir, { recursive: true });
  const written: WrittenReport = { outputDir, files: {}, truncated: false };
  const out = (format: ReportFormat, content: string) => {
    const file = path.join(outputDir, REPORT_FILES[format]);
    writeAtomic(file, content);
    written.files[format] = file;
  };
  if (formats.includes('json')) out('json', JSON.stringify(report, null, 1) + '\n');
  let summary: string | null = null;
  if (formats.includes('markdown') || options.githubStepSummary) {
    summary = renderSummary(report, { maxStacksPerHook: options.maxStacksPerHook });
  }
  if (formats.includes('markdown') && summary != null) {
    const cut = truncateMarkdown(summary, maxBytes, 'the summary exceeded 1 MiB; every test and stack is in report.json and index.html.');
    written.truncated ||= cut !== summary;
    out('markdown', cut);
  }
  if (formats.includes('folded')) out('folded', renderFolded(report));
  if (formats.includes('html')) out('html', renderHtml(report));
  if (options.githubStepSummary && summary != null) {
    // GitHub refuses a step summary over 1 MiB, counting what earlier steps of this step appended.
    let existing = 0;
    try {
      existing = fs.statSync(options.githubStepSummary).size;
    } catch {
      existing = 0;
    }
    const budget = Math.max(0, maxBytes - existing - 1);
    const cut = truncateMarkdown(
      summary,
      budget,
      'the GitHub step summary is limited to 1 MiB; download the ustack-report folder (report.json, index.html) for everything.',
    );
    written.truncated ||= cut !== summary;
    fs.appendFileSync(options.githubStepSummary, (existing ? '\n' : '') + cut + '\n');
  }
  return written;
}
