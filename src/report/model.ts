/**
 * The data behind every reporter output: `report.json` holds exactly a `UstackReport`, and
 * summary.md, stacks.folded and index.html are regenerated from it (also after a merge).
 */
import { hitCount } from '../capture/model';
import type { Capture } from '../capture/types';

/** 2: captures are capture schema 2 (distinct stacks + hit table). Schema-1 reports are read and upgraded. */
export const REPORT_SCHEMA = 2;
export const REPORT_KIND = 'jest-ustack-report';

/** Jest's per-test statuses plus 'unknown' for captures whose test Jest did not report. */
export type TestStatus = 'passed' | 'failed' | 'skipped' | 'pending' | 'todo' | 'disabled' | 'focused' | 'unknown';

export interface ReportTest {
  /** describe blocks then the test name. */
  title: string[];
  fullName: string;
  status: TestStatus;
  durationMs: number | null;
  /** Jest's failure messages, ANSI colours removed. */
  failureMessages: string[];
  captures: Capture[];
}

export interface ReportFile {
  /** Test file path relative to the Jest rootDir, '/'-separated. */
  path: string;
  status: 'passed' | 'failed' | 'unknown';
  /** A failure of the file itself (syntax error, failing beforeAll, environment error). */
  failureMessage: string | null;
  tests: ReportTest[];
}

/** Where one part of a (possibly merged) report came from. */
export interface ReportRun {
  /** "2/4" for `jest --shard=2/4`, else null. */
  shard: string | null;
  startedAt: string;
  durationMs: number | null;
  jestVersion: string | null;
  nodeVersion: string;
  success: boolean | null;
  /** Test files covered by this run. */
  files: number;
}

export interface ReportTotals {
  files: number;
  tests: number;
  passed: number;
  failed: number;
  skipped: number;
  captures: number;
  hits: number;
  crashes: number;
}

export interface UstackReport {
  schema: typeof REPORT_SCHEMA;
  kind: typeof REPORT_KIND;
  title: string;
  createdAt: string;
  /** One entry per Jest run; several after `ustack report merge`. */
  runs: ReportRun[];
  totals: ReportTotals;
  files: ReportFile[];
}

export function computeTotals(files: ReportFile[]): ReportTotals {
  const totals: ReportTotals = { files: files.length, tests: 0, passed: 0, failed: 0, skipped: 0, captures: 0, hits: 0, crashes: 0 };
  for (const file of files) {
    for (const test of file.tests) {
      totals.tests++;
      if (test.status === 'passed') totals.passed++;
      else if (test.status === 'failed') totals.failed++;
      else if (test.status !== 'unknown') totals.skipped++;
      for (const capture of test.captures) {
        totals.captures++;
        totals.hits += capture.stats?.hits ?? hitCount(capture);
        if (capture.crash) totals.crashes++;
      }
    }
  }
  return totals;
}
