/**
 * The channel between the test environment (in Jest workers) and the reporter (in the main
 * process): Jest has no other one, so each test file's captures are written as one JSON file
 * into a run directory that the reporter collects at the end of the run.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { upgradeCapture } from '../capture/model';
import type { Capture } from '../capture/types';

export interface TestTraces {
  /** describe blocks then the test name. */
  title: string[];
  fullName: string;
  /** 'passed' | 'failed' | 'skipped' as the environment saw it at test_done (the reporter's view wins). */
  status?: string;
  captures: Capture[];
}

export interface TestFileTraces {
  schema: 1;
  testPath: string;
  tests: TestTraces[];
}

/** Where captures of this Jest run go: set by the reporter, else a folder per project root. */
export function runDirectory(rootDir: string): string {
  const fromReporter = process.env.USTACK_RUN_DIR;
  if (fromReporter) return fromReporter;
  const key = createHash('sha1').update(rootDir).digest('hex').slice(0, 12);
  return path.join(os.tmpdir(), 'jest-ustack', key);
}

function traceFileName(testPath: string): string {
  return createHash('sha1').update(testPath).digest('hex').slice(0, 16) + '.json';
}

export function writeTestFileTraces(runDir: string, data: TestFileTraces): string {
  fs.mkdirSync(runDir, { recursive: true });
  const file = path.join(runDir, traceFileName(data.testPath));
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(data));
  fs.renameSync(tmp, file); // atomic: the reporter never reads half a file
  return file;
}

export function readRunDirectory(runDir: string): TestFileTraces[] {
  if (!fs.existsSync(runDir)) return [];
  return fs
    .readdirSync(runDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const data = JSON.parse(fs.readFileSync(path.join(runDir, f), 'utf8')) as TestFileTraces;
      for (const t of data.tests) t.captures = t.captures.map(upgradeCapture);
      return data;
    });
}

/** What one test file's environment wrote, or null (no traces, or not written yet). */
export function readTestFileTraces(runDir: string, testPath: string): TestFileTraces | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(runDir, traceFileName(testPath)), 'utf8')) as TestFileTraces;
  } catch {
    return null;
  }
}
