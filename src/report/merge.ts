/** Combines report.json files of sharded runs (`jest --shard=i/n`) into one report. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { upgradeCapture } from '../capture/model';
import { ReportFormatError, UstackError } from '../errors';
import { computeTotals, REPORT_KIND, REPORT_SCHEMA, type ReportFile, type UstackReport } from './model';
import { REPORT_FILES } from './write';

/** Reads `DIR/report.json` (or the file itself) and checks that it is a report this version understands. */
export function readReport(location: string): UstackReport {
  let file = location;
  if (fs.existsSync(location) && fs.statSync(location).isDirectory()) file = path.join(location, REPORT_FILES.json);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ReportFormatError(file, `cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ReportFormatError(file, `not valid JSON (${(e as Error).message})`);
  }
  const r = data as Partial<UstackReport>;
  if (!r || typeof r !== 'object' || r.kind !== REPORT_KIND) throw new ReportFormatError(file, 'not a jest-ustack report (no "kind": "jest-ustack-report")');
  const schema = r.schema as number | undefined;
  if (schema !== REPORT_SCHEMA && schema !== 1) throw new ReportFormatError(file, `report schema ${String(r.schema)}, this version reads schemas 1 and ${REPORT_SCHEMA}`);
  if (!Array.isArray(r.files) || !Array.isArray(r.runs)) throw new ReportFormatError(file, 'missing "files" or "runs"');
  // schema 1 (older shards) stored every hit's stack: read its captures into the tables of schema 2
  for (const f of r.files) {
    for (const t of f.tests ?? []) {
      t.captures = (t.captures ?? []).map((c, i) => {
        try {
          return upgradeCapture(c);
        } catch (e) {
          throw new ReportFormatError(file, `capture ${i + 1} of test "${t.fullName}" in ${f.path}: ${e instanceof UstackError ? e.message : String(e)}`);
        }
      });
    }
  }
  return { ...r, schema: REPORT_SCHEMA } as UstackReport;
}

export interface MergeResult {
  report: UstackReport;
  /** Test files present in more than one input: the later input's copy was kept. */
  duplicates: string[];
}

export function mergeReports(reports: UstackReport[], options: { title?: string; createdAt?: string } = {}): MergeResult {
  if (reports.length === 0) throw new ReportFormatError('(nothing)', 'no reports given');
  const byPath = new Map<string, ReportFile>();
  const duplicates: string[] = [];
  for (const r of reports) {
    for (const f of r.files) {
      if (byPath.has(f.path)) duplicates.push(f.path);
      byPath.set(f.path, f);
    }
  }
  const files = [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const runs = reports.flatMap((r) => r.runs);
  runs.sort((a, b) => {
    const sa = a.shard ? Number(a.shard.split('/')[0]) : 0;
    const sb = b.shard ? Number(b.shard.split('/')[0]) : 0;
    return sa - sb || (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0);
  });
  return {
    report: {
      schema: REPORT_SCHEMA,
      kind: REPORT_KIND,
      title: options.title ?? reports[0].title,
      createdAt: options.createdAt ?? new Date().toISOString(),
      runs,
      totals: computeTotals(files),
      files,
    },
    duplicates: [...new Set(duplicates)],
  };
}
