/**
 * `jest-ustack/reporter`: collects the captures the environment wrote into the run directory,
 * joins them with Jest's results and writes report.json, summary.md, stacks.folded and index.html.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AggregatedResult, Reporter, ReporterOnStartOptions, Test, TestContext, TestResult } from '@jest/reporters';
import type { Config } from '@jest/types';
import { buildReport, relativePath } from '../report/build';
import { resolveReporterOptions, type ReporterOptions, type ResolvedReporterOptions } from '../report/options';
import { readRunDirectory, readTestFileTraces } from '../report/run-files';
import { collectWarnings, formatFileWarnings } from '../report/warnings';
import { writeReport, type WrittenReport } from '../report/write';

export type { ReporterOptions } from '../report/options';

function jestVersion(): string | null {
  try {
    return (require('jest/package.json') as { version: string }).version;
  } catch {
    return null;
  }
}

/**
 * Jest computes `results.success` only after every reporter's onRunComplete, so the value seen
 * here is always false; this is the same rule Jest applies afterwards (reporter errors aside).
 */
export function runSucceeded(results: AggregatedResult): boolean {
  return results.numFailedTests === 0 && results.numRuntimeErrorTestSuites === 0 && !results.snapshot?.failure && !results.runExecError && !results.wasInterrupted;
}

export default class UstackReporter implements Reporter {
  private readonly globalConfig: Config.GlobalConfig;
  private readonly options: ResolvedReporterOptions;
  private runDir: string;
  private startedAt = new Date();
  private lastError: Error | undefined;
  /** What the last completed run wrote (for tests and tools embedding the reporter). */
  lastWritten: WrittenReport | null = null;

  constructor(globalConfig: Config.GlobalConfig, reporterOptions?: ReporterOptions) {
    this.globalConfig = globalConfig;
    this.options = resolveReporterOptions(reporterOptions, globalConfig.rootDir);
    // Workers are spawned after reporters are constructed and inherit this variable. The folder
    // itself is made in onRunStart, so `jest --listTests` and config errors leave nothing behind.
    this.runDir = path.join(os.tmpdir(), `jest-ustack-run-${process.pid}-${randomBytes(6).toString('hex')}`);
    process.env.USTACK_RUN_DIR = this.runDir;
  }

  onRunStart(_results: AggregatedResult, _options: ReporterOnStartOptions): void {
    this.startedAt = new Date();
    this.lastError = undefined;
    // Watch mode reruns in the same process: start every run from an empty directory.
    fs.rmSync(this.runDir, { recursive: true, force: true });
    fs.mkdirSync(this.runDir, { recursive: true, mode: 0o700 });
    process.env.USTACK_RUN_DIR = this.runDir;
  }

  /** Capture warnings, once per test file, printed under Jest's result line of the file. */
  onTestResult(test: Test, _result: TestResult): void {
    const traces = readTestFileTraces(this.runDir, test.path);
    if (!traces) return;
    const text = formatFileWarnings(relativePath(test.path, this.globalConfig.rootDir), collectWarnings(traces.tests.flatMap((t) => t.captures)));
    if (text) process.stderr.write(text);
  }

  onRunComplete(_contexts: Set<TestContext>, results: AggregatedResult): void {
    try {
      const shard = this.globalConfig.shard ? `${this.globalConfig.shard.shardIndex}/${this.globalConfig.shard.shardCount}` : null;
      const report = buildReport({
        title: this.options.title,
        rootDir: this.globalConfig.rootDir,
        traces: readRunDirectory(this.runDir),
        results: results.testResults,
        run: {
          shard,
          startedAt: this.startedAt.toISOString(),
          durationMs: Date.now() - this.startedAt.getTime(),
          jestVersion: jestVersion(),
          nodeVersion: process.version,
          success: runSucceeded(results),
        },
      });
      this.lastWritten = writeReport(report, this.options.outputDir, {
        formats: this.options.formats,
        maxStacksPerHook: this.options.maxStacksPerHook,
        maxSummaryBytes: this.options.maxSummaryBytes,
        githubStepSummary: this.options.githubSummary ? process.env.GITHUB_STEP_SUMMARY || null : null,
      });
      if (!this.options.silent) {
        const rel = path.relative(process.cwd(), this.options.outputDir) || '.';
        const t = report.totals;
        process.stderr.write(
          `jest-ustack: ${t.captures} traced run${t.captures === 1 ? '' : 's'}, ${t.hits} hits, ${t.crashes} crash${t.crashes === 1 ? '' : 'es'} → ${rel}/${this.lastWritten.files.html ? 'index.html' : ''}\n`,
        );
      }
      if (!process.env.USTACK_KEEP_RUN_DIR && !this.globalConfig.watch && !this.globalConfig.watchAll) {
        fs.rmSync(this.runDir, { recursive: true, force: true });
      }
    } catch (e) {
      this.lastError = e as Error;
      process.stderr.write(`jest-ustack: could not write the report: ${(e as Error).message}\n`);
    }
  }

  getLastError(): Error | void {
    return this.lastError;
  }
}
