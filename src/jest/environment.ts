/**
 * jest-ustack/environment: a Node test environment that owns the tracer. Tests reach it through
 * trace() (a bridge on the sandbox global). Each trace belongs to the test or hook that called
 * it: Jest runs every test and hook in an AsyncLocalStorage context that `expect.getState()`
 * exposes (`currentTestIdentity`), so concurrent tests are told apart; beforeAll/afterAll are
 * tracked from circus events. Traced programs are killed when their owner ends or the file is
 * torn down, and each file's captures are written to the run directory for the reporter.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import type { Circus } from '@jest/types';
import { TestEnvironment } from 'jest-environment-node';
import { DEFAULT_NORMALIZE } from '../callpath/normalize';
import { UstackError } from '../errors';
import { record } from '../record';
import type { RecordOptions } from '../record-options';
import { relativePath } from '../report/build';
import { runDirectory, writeTestFileTraces, type TestTraces } from '../report/run-files';
import { collectWarnings, formatFileWarnings } from '../report/warnings';
import {
  applyPragmas,
  checkBackend,
  checkCommonNumbers,
  checkHooks,
  checkNormalize,
  fileHookOrigins,
  parseEnvironmentOptions,
  type HookOrigin,
  type UstackEnvironmentOptions,
} from './options';
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

/** describe blocks (outermost first, without Jest's root block) then the name. */
function titleOf(entry: { name: string; parent?: Circus.DescribeBlock }): string[] {
  const title = [entry.name];
  for (let block = entry.parent; block && block.parent; block = block.parent) title.unshift(block.name);
  return title;
}

/** Where Jest's `expect` keeps its state, on the test file's global (see expect's getState()). */
const EXPECT_STATE = Symbol.for('$$jest-matchers-object');

interface ExpectStateLike {
  currentTestIdentity?: () => Circus.TestEntry | undefined;
  currentConcurrentTestName?: () => string | undefined;
}

let warmedUp: Promise<void> | null = null;

/**
 * Starts the tracer once per Jest worker: the worker thread, ffi-rs, the native stop loop (built
 * on first use) and libc's symbols and unwind tables, by tracing a tiny program with a hook in
 * libc. Failures are ignored here: a real trace() reports them.
 */
function warmUpTracer(): Promise<void> {
  warmedUp ??= (async () => {
    const program = ['/bin/true', '/usr/bin/true'].find((p) => fs.existsSync(p));
    if (!program) return;
    try {
      await record([program], { hooks: ['exit@libc.so.6'], timeout: 30000 });
    } catch {
      /* reported by the first real trace */
    }
  })();
  return warmedUp;
}

// errors about one hook (a module without debug info says which hook found nothing there)
const HOOK_ERRORS = ['USTACK_UNKNOWN_HOOK', 'USTACK_INVALID_HOOK', 'USTACK_NO_DEBUGINFO'];

/** Says where the hook an error is about came from, so a pragma's hook is not mistaken for the call's. */
function withHookOrigin(message: string, code: string | null, origins: Map<string, HookOrigin>): string {
  if (!code || !HOOK_ERRORS.includes(code)) return message;
  const spec = [...origins.keys()].sort((a, b) => b.length - a.length).find((h) => message.includes(`"${h}"`));
  if (spec === undefined) return message;
  const origin = origins.get(spec)!;
  const fileLevel = origin !== "this trace() call's hooks option";
  return (
    `${message}\nThe hook "${spec}" came from ${origin}.` +
    (fileLevel ? ' File-level hooks apply to every trace() that passes no hooks option: pass { hooks: [...] } to choose this call\'s hooks, or { hooks: [] } for none.' : '')
  );
}

function errorResponse(error: unknown, origins: Map<string, HookOrigin>): TraceResponse {
  const e = error as { name?: string; code?: string; message?: string };
  const code = error instanceof UstackError ? error.code : typeof e?.code === 'string' ? e.code : null;
  return {
    ok: false,
    error: {
      name: typeof e?.name === 'string' ? e.name : 'Error',
      code,
      message: withHookOrigin(typeof e?.message === 'string' ? e.message : String(error), code, origins),
    },
  };
}

export default class UstackEnvironment extends TestEnvironment {
  private readonly rootDir: string;
  private readonly testPath: string;
  private readonly ustack: UstackEnvironmentOptions;
  private readonly defaultTestTimeout: number;
  private readonly hookOrigins: Map<string, HookOrigin>;
  private readonly tests = new Map<Circus.TestEntry, TestTraces>();
  private readonly fileLevel: TestTraces[] = [];
  private readonly inFlight = new Set<InFlight>();
  /** When each test or hook owner times out in Jest's eyes (ms since epoch). */
  private readonly deadlines = new Map<TestTraces, number>();
  /** The last test started: the owner when Jest does not expose the running test (before 30.5). */
  private currentTest: TestTraces | null = null;
  /** The running beforeAll/afterAll hook (these never run concurrently). */
  private currentHook: TestTraces | null = null;
  private outsideTests: TestTraces | null = null;
  private circusState: Circus.State | null = null;

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    this.rootDir = config.projectConfig.rootDir;
    this.testPath = context.testPath;
    const raw = (config.projectConfig.testEnvironmentOptions as Record<string, unknown> | undefined)?.ustack;
    const configured = parseEnvironmentOptions(raw);
    this.ustack = applyPragmas(configured, context.docblockPragmas ?? {});
    this.hookOrigins = fileHookOrigins(configured, this.ustack);
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
    if (this.ustack.warmUp !== false && (this.ustack.backend ?? 'ptrace') !== 'stap') await warmUpTracer();
  }

  async handleTestEvent(event: Circus.AsyncEvent | Circus.SyncEvent, state: Circus.State): Promise<void> {
    this.circusState = state;
    switch (event.name) {
      case 'test_start':
        this.currentTest = this.testEntry(event.test);
        break;
      case 'test_fn_start':
        this.deadlines.set(this.testEntry(event.test), Date.now() + (event.test.timeout || state.testTimeout));
        break;
      case 'hook_start': {
        const deadline = Date.now() + (event.hook.timeout || state.testTimeout);
        if (event.hook.type === 'beforeAll' || event.hook.type === 'afterAll') {
          const title = [...titleOf({ name: '', parent: event.hook.parent }).slice(0, -1), `(${event.hook.type})`];
          const hook: TestTraces = { title, fullName: title.join(' '), captures: [] };
          this.fileLevel.push(hook);
          this.currentHook = hook;
          this.deadlines.set(hook, deadline);
        } else {
          // beforeEach/afterEach run in their test's context (concurrent tests interleave them)
          const test = this.runningTest() ?? null;
          const owner = test ? this.testEntry(test) : this.currentTest;
          if (owner) this.deadlines.set(owner, deadline);
        }
        break;
      }
      case 'hook_success':
      case 'hook_failure':
        if (event.hook.type === 'beforeAll' || event.hook.type === 'afterAll') {
          if (event.name === 'hook_failure' && this.currentHook) await this.abortOwnedBy(this.currentHook);
          if (this.currentHook) this.deadlines.delete(this.currentHook);
          this.currentHook = null;
        }
        break;
      case 'test_done': {
        const entry = this.tests.get(event.test);
        if (entry) {
          entry.status = event.test.errors.length ? 'failed' : 'passed';
          this.deadlines.delete(entry);
          await this.abortOwnedBy(entry);
        }
        if (this.currentTest === entry) this.currentTest = null;
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
      // With the reporter (it sets USTACK_RUN_DIR) the warnings are printed under the file's result.
      if (!process.env.USTACK_RUN_DIR) {
        const text = formatFileWarnings(relativePath(this.testPath, this.rootDir), collectWarnings(withCaptures.flatMap((t) => t.captures)));
        if (text) process.stderr.write(text);
      }
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

  /**
   * The test whose code is running (also inside its beforeEach/afterEach hooks): Jest runs each
   * test in an AsyncLocalStorage context that `expect.getState()` reads. Undefined in
   * beforeAll/afterAll and at file level; null when this Jest cannot tell.
   */
  private runningTest(): Circus.TestEntry | undefined | null {
    const state = (this.global as unknown as Record<symbol, { state?: ExpectStateLike } | undefined>)[EXPECT_STATE]?.state;
    if (typeof state?.currentTestIdentity === 'function') return state.currentTestIdentity();
    if (typeof state?.currentConcurrentTestName === 'function') {
      const name = state.currentConcurrentTestName();
      return name === undefined ? undefined : this.testNamed(name) ?? null;
    }
    return null;
  }

  /** A test of this file by Jest's test id (describe names and test name joined by spaces). */
  private testNamed(id: string): Circus.TestEntry | undefined {
    const walk = (block: Circus.DescribeBlock): Circus.TestEntry | undefined => {
      for (const child of block.children) {
        if (child.type === 'describeBlock') {
          const found = walk(child);
          if (found) return found;
        } else if (titleOf(child).join(' ') === id && !(this.tests.get(child)?.status)) return child;
      }
      return undefined;
    };
    return this.circusState ? walk(this.circusState.rootDescribeBlock) : undefined;
  }

  private owner(): TestTraces {
    const test = this.runningTest();
    if (test) return this.testEntry(test);
    if (this.currentHook) return this.currentHook;
    if (test === null && this.currentTest) return this.currentTest;
    if (!this.outsideTests) this.outsideTests = { title: ['(outside tests)'], fullName: '(outside tests)', captures: [] };
    return this.outsideTests;
  }

  /** The time limit of one trace and where it came from. */
  private timeLimit(owner: TestTraces, requested: number | undefined): { ms: number; source: TimeoutSource } {
    if (requested !== undefined) return { ms: requested, source: 'trace' };
    const margin = this.ustack.timeoutMargin ?? DEFAULT_MARGIN_MS;
    const left = (this.deadlines.get(owner) ?? Date.now() + this.defaultTestTimeout) - Date.now() - margin;
    const fromTest = Math.max(MIN_TRACE_MS, left);
    if (this.ustack.timeout !== undefined && this.ustack.timeout <= fromTest) return { ms: this.ustack.timeout, source: 'environment' };
    return { ms: fromTest, source: 'test' };
  }

  /** The hooks of one trace: the call's own when it passes `hooks` (even []), else the file's defaults. */
  private hooksOf(request: TraceRequest): { hooks: string[]; origins: Map<string, HookOrigin> } {
    const own = checkHooks('trace() options', request.options?.hooks);
    if (own === undefined) return { hooks: [...new Set(this.ustack.hooks ?? [])], origins: this.hookOrigins };
    const hooks = [...new Set(own)];
    return { hooks, origins: new Map(hooks.map((h) => [h, "this trace() call's hooks option"])) };
  }

  private recordOptions(request: TraceRequest, hooks: string[], signal: AbortSignal): { options: RecordOptions; cwd: string } {
    const where = 'trace() options';
    const o = request.options ?? {};
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
        hooks,
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
        ...(this.ustack.debugDirs ? { debugDirs: this.ustack.debugDirs.map((d) => path.resolve(this.rootDir, d)) } : {}),
        debugDirsOption: 'testEnvironmentOptions.ustack.debugDirs',
        onDebugProgress: (line) => this.debugProgress(line),
      },
    };
  }

  /** Long debuginfod downloads are announced once per test file, not per trace. */
  private debugProgressShown = false;

  private debugProgress(line: string): void {
    if (this.debugProgressShown || !/downloading/.test(line)) return;
    this.debugProgressShown = true;
    process.stderr.write(`  jest-ustack: ${line.replace(/^ustack: /, '')} (${relativePath(this.testPath, this.rootDir)}; later downloads of this file are not announced)\n`);
  }

  private async bridge(requestJson: string): Promise<string> {
    const owner = this.owner();
    const controller = new AbortController();
    let abortedByTestEnd = false;
    controller.signal.addEventListener('abort', () => (abortedByTestEnd = true));
    let origins = new Map<string, HookOrigin>();
    const work = (async (): Promise<TraceResponse> => {
      try {
        const request = JSON.parse(requestJson) as TraceRequest;
        const plan = this.hooksOf(request);
        origins = plan.origins;
        const { options } = this.recordOptions(request, plan.hooks, controller.signal);
        const limit = this.timeLimit(owner, checkCommonNumbers('trace() options', request.options ?? {}).timeout);
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
        return errorResponse(error, origins);
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
