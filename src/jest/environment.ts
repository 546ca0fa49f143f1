/**
 * jest-ustack/environment: a Node test environment that owns the tracer. Tests reach it through
 * trace() (a bridge on the sandbox global); captures are scoped to the running test through
 * handleTestEvent, traced programs are killed when their test ends or the file is torn down, and
 * each file's captures are written to the run directory for the reporter.
 */
import * as path from 'node:path';
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import type { Circus } from '@jest/types';
import { TestEnvironment } from 'jest-environment-node';
import { DEFAULT_NORMALIZE } from '../callpath/normalize';
import { UstackError } from '../errors';
import { record } from '../record';
import type { RecordOptions } from '../record-options';
import { runDirectory, writeTestFileTraces, type TestTraces } from '../report/run-files';
import { applyPragmas, checkBackend, checkCommonNumbers, checkHooks, checkNormalize, parseEnvironmentOptions, type UstackEnvironmentOptions } from './options';
import { BRIDGE_KEY, type TimeoutSource, type TraceRequest, type TraceResponse } from './protocol';
import { SandboxLoader } from './sandbox-loader';

export type { UstackEnvironmentOptions } from './options';

// room for killing the program and reporting back: a cold tracer (worker start, ffi) needs ~400 ms
const DEFAULT_MARGIN_MS = 1000;
const MIN_TRACE_MS = 100;
/** How long teardown and test_done wait for killed traces to report back. */
const SETTLE_MS = 5000;

interface InFlight {
  owner: TestTraces;
  controller: AbortController;
  done: Promise<unknown>;
}

function titleOf(test: Circus.TestEntry): string[] {
  const title = [test.name];
  for (let block = test.parent; block && block.parent; block = block.parent) title.unshift(block.name);
  return title;
}

function errorResponse(error: unknown): TraceResponse {
  const e = error as { name?: string; code?: string; message?: string };
  return {
    ok: false,
    error: {
      name: typeof e?.name === 'string' ? e.name : 'Error',
      code: error instanceof UstackError ? error.code : typeof e?.code === 'string' ? e.code : null,
      message: typeof e?.message === 'string' ? e.message : String(error),
    },
  };
}

export default class UstackEnvironment extends TestEnvironment {
  private readonly rootDir: string;
  private readonly testPath: string;
  private readonly ustack: UstackEnvironmentOptions;
  private readonly defaultTestTimeout: number;
  private readonly tests = new Map<Circus.TestEntry, TestTraces>();
  private readonly fileLevel: TestTraces[] = [];
  private readonly inFlight = new Set<InFlight>();
  private currentTest: TestTraces | null = null;
  private currentHook: TestTraces | null = null;
  /** When the running test or hook times out in Jest's eyes (ms since epoch), or null. */
  private deadline: number | null = null;
  private outsideTests: TestTraces | null = null;

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    this.rootDir = config.projectConfig.rootDir;
    this.testPath = context.testPath;
    const raw = (config.projectConfig.testEnvironmentOptions as Record<string, unknown> | undefined)?.ustack;
    this.ustack = applyPragmas(parseEnvironmentOptions(raw), context.docblockPragmas ?? {});
    this.defaultTestTimeout = config.globalConfig.testTimeout ?? 5000;
  }

  /** The options in effect for this test file (config + pragmas). */
  get options(): Readonly<UstackEnvironmentOptions> {
    return this.ustack;
  }

  async setup(): Promise<void> {
    await super.setup();
    Object.defineProperty(this.global, BRIDGE_KEY, {
      value: (requestJson: string) => this.bridge(requestJson),
      configurable: true,
      enumerable: false,
    });
    const context = this.getVmContext();
    if (context && !('trace' in this.global)) {
      const client = new SandboxLoader(context).load('jest/trace-client');
      (this.global as Record<string, unknown>).trace = client.trace;
    }
  }

  async handleTestEvent(event: Circus.AsyncEvent | Circus.SyncEvent, state: Circus.State): Promise<void> {
    switch (event.name) {
      case 'test_start':
        this.currentTest = this.testEntry(event.test);
        break;
      case 'test_fn_start':
        this.deadline = Date.now() + (event.test.timeout || state.testTimeout);
        break;
      case 'hook_start': {
        this.deadline = Date.now() + (event.hook.timeout || state.testTimeout);
        if (event.hook.type === 'beforeAll' || event.hook.type === 'afterAll') {
          const hook: TestTraces = { title: [`(${event.hook.type})`], fullName: `(${event.hook.type})`, captures: [] };
          this.fileLevel.push(hook);
          this.currentHook = hook;
        }
        break;
      }
      case 'hook_success':
      case 'hook_failure':
        if (event.name === 'hook_failure' && this.currentHook) await this.abortOwnedBy(this.currentHook);
        this.currentHook = null;
        this.deadline = null;
        break;
      case 'test_done': {
        const entry = this.tests.get(event.test);
        if (entry) {
          entry.status = event.test.errors.length ? 'failed' : 'passed';
          await this.abortOwnedBy(entry);
        }
        this.currentTest = null;
        this.deadline = null;
        break;
      }
      case 'test_skip':
      case 'test_todo':
        break;
    }
  }

  async teardown(): Promise<void> {
    await this.abortAll();
    const withCaptures = [...this.fileLevel, ...this.tests.values(), ...(this.outsideTests ? [this.outsideTests] : [])].filter(
      (t) => t.captures.length > 0,
    );
    if (withCaptures.length) {
      writeTestFileTraces(runDirectory(this.rootDir), { schema: 1, testPath: this.testPath, tests: withCaptures });
    }
    delete (this.global as Record<symbol, unknown>)[BRIDGE_KEY];
    await super.teardown();
  }

  private testEntry(test: Circus.TestEntry): TestTraces {
    let entry = this.tests.get(test);
    if (!entry) {
      const title = titleOf(test);
      entry = { title, fullName: title.join(' '), captures: [] };
      this.tests.set(test, entry);
    }
    return entry;
  }

  private owner(): TestTraces {
    if (this.currentHook) return this.currentHook;
    if (this.currentTest) return this.currentTest;
    if (!this.outsideTests) this.outsideTests = { title: ['(outside tests)'], fullName: '(outside tests)', captures: [] };
    return this.outsideTests;
  }

  /** The time limit of one trace and where it came from. */
  private timeLimit(requested: number | undefined): { ms: number; source: TimeoutSource } {
    if (requested !== undefined) return { ms: requested, source: 'trace' };
    const margin = this.ustack.timeoutMargin ?? DEFAULT_MARGIN_MS;
    const left = (this.deadline ?? Date.now() + this.defaultTestTimeout) - Date.now() - margin;
    const fromTest = Math.max(MIN_TRACE_MS, left);
    if (this.ustack.timeout !== undefined && this.ustack.timeout <= fromTest) return { ms: this.ustack.timeout, source: 'environment' };
    return { ms: fromTest, source: 'test' };
  }

  private recordOptions(request: TraceRequest, signal: AbortSignal): { options: RecordOptions; cwd: string } {
    const where = 'trace() options';
    const o = request.options ?? {};
    const hooks = [...(this.ustack.hooks ?? []), ...(checkHooks(where, o.hooks) ?? [])];
    const numbers = checkCommonNumbers(where, o);
    const cwd = path.resolve(this.rootDir, o.cwd ?? '.');
    let stdin: RecordOptions['stdin'] = 'ignore';
    if (o.stdin === 'inherit' || o.stdin === 'ignore') stdin = o.stdin;
    else if (o.stdin && 'text' in o.stdin) stdin = o.stdin.text;
    else if (o.stdin && 'base64' in o.stdin) stdin = Buffer.from(o.stdin.base64, 'base64');
    let env: Record<string, string | undefined> | undefined;
    if (o.env) {
      env = {};
      for (const [k, v] of Object.entries(o.env)) env[k] = v === null ? undefined : v;
    }
    return {
      cwd,
      options: {
        hooks: [...new Set(hooks)],
        backend: checkBackend(where, o.backend) ?? this.ustack.backend ?? 'ptrace',
        cwd,
        env,
        stdin,
        maxHits: numbers.maxHits ?? this.ustack.maxHits,
        maxFrames: numbers.maxFrames ?? this.ustack.maxFrames,
        signal,
        // parameters and returns (issue 13): trace()'s own switch, else the environment's
        ...((o.args ?? this.ustack.args) ? { args: true } : {}),
        ...((o.returns ?? this.ustack.returns) ? { returns: true } : {}),
      },
    };
  }

  private async bridge(requestJson: string): Promise<string> {
    const owner = this.owner();
    const controller = new AbortController();
    let abortedByTestEnd = false;
    controller.signal.addEventListener('abort', () => (abortedByTestEnd = true));
    const work = (async (): Promise<TraceResponse> => {
      try {
        const request = JSON.parse(requestJson) as TraceRequest;
        const { options } = this.recordOptions(request, controller.signal);
        const limit = this.timeLimit(checkCommonNumbers('trace() options', request.options ?? {}).timeout);
        options.timeout = limit.ms;
        const normalize = { ...DEFAULT_NORMALIZE, ...this.ustack.normalize, ...checkNormalize('trace() options', request.options?.normalize) };
        const result = await record(request.argv, options);
        owner.captures.push(result.capture);
        return {
          ok: true,
          capture: result.capture,
          stdout: result.stdout,
          stderr: result.stderr,
          rootDir: this.rootDir,
          normalize,
          timeout: limit,
          abortedByTestEnd,
        };
      } catch (error) {
        return errorResponse(error);
      }
    })();
    const entry: InFlight = { owner, controller, done: work };
    this.inFlight.add(entry);
    try {
      return JSON.stringify(await work);
    } finally {
      this.inFlight.delete(entry);
    }
  }

  private async settle(entries: InFlight[]): Promise<void> {
    if (!entries.length) return;
    for (const e of entries) e.controller.abort();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(entries.map((e) => e.done)),
      new Promise((resolve) => (timer = setTimeout(resolve, SETTLE_MS))),
    ]);
    clearTimeout(timer);
  }

  private abortOwnedBy(owner: TestTraces): Promise<void> {
    return this.settle([...this.inFlight].filter((e) => e.owner === owner));
  }

  private abortAll(): Promise<void> {
    return this.settle([...this.inFlight]);
  }
}

export { UstackEnvironment as TestEnvironment };
