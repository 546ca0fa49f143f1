/**
 * The backend-neutral, JSON-serializable result of one traced run.
 * `ustack record --format json` prints exactly a `Capture`.
 *
 * Schema 2: each distinct stack is stored once (`stacks`, with its hit count) and the hits are
 * rows of a column table referring to it, so a hot function hit a million times costs a few
 * bytes per hit. src/capture/model.ts builds, expands, upgrades and serializes captures.
 */

/** One frame of a stack, innermost first. Addresses are hex strings ("0x55d0c3a00139"). */
export interface Frame {
  /** Absolute program counter in the traced process. Inline frames share the pc of their physical frame. */
  pc: string;
  /** Absolute path of the mapped module (executable or shared library), or null if unmapped. */
  module: string | null;
  /** pc minus the module's load base: stable across ASLR. */
  offset: string | null;
  /** Demangled function name, or null when unknown (printed `??`). */
  symbol: string | null;
  /** Mangled (linkage) name when it differs from `symbol`. */
  linkage?: string | null;
  symbolOffset: number | null;
  symbolSize: number | null;
  file: string | null;
  line: number | null;
  inlined: boolean;
  /**
   * A function that tail-called (jumped to) the frame inside it, so it has no frame of its own on
   * the machine stack; rebuilt from DWARF call-site information as gdb does. Its pc is the address
   * just past the jump.
   */
  tailCall?: boolean;
  /** The frame is in a system library (README "Normalization"): call paths collapse consecutive such frames. */
  system?: true;
  /**
   * On the outermost frame of consecutive system-library frames: the function the calling frame
   * called, by the name its call binds to (`qsort` for `call qsort@plt`), else the library's exported
   * function around the frame. Read from the modules themselves, so it does not depend on debug packages.
   */
  calledAs?: string;
  /** On frame 0 in a system library: the library's exported name for the function it is the entry of. */
  exportedAs?: string;
}

/**
 * One hit with its full stack: the expanded view that `run.hits`, `expandHits()` and the builder's
 * input use (schema 1 stored one of these per hit). A Capture itself stores hits as table rows.
 */
export interface Hit {
  /** The hook spec that fired, exactly as the user wrote it. */
  hook: string;
  pid: number;
  tid: number;
  /** Order of this hit among all hits of the capture (kept or not), starting at 0. */
  seq: number;
  frames: Frame[];
  /** Parameters at entry, by name, in declaration order (`--args`). */
  args?: Record<string, ArgValue>;
  /** With `--returns`: the call's return, or null when it never returned (see `noReturn`). */
  return?: ReturnInfo | null;
  /** Why `return` is null: an exception or longjmp unwound through the call, the thread exited or crashed first, ... */
  noReturn?: NoReturnReason;
  /** Nanoseconds since the traced program started, when the backend measures it. */
  ns?: number;
  /** The stack was cut at maxFrames: its outermost callers (main among them) are not in `frames`. */
  truncated?: true;
}

/** One distinct stack of one hook, stored once however often it was hit. */
export interface Stack {
  /** The hook spec that fired. */
  hook: string;
  /** How many hits had exactly this stack: a true count, also past maxHits. */
  count: number;
  /** `seq` of the first hit with this stack. */
  first: number;
  /** Innermost first, symbolized once (inline and tail-call frames included). */
  frames: Frame[];
  /**
   * Set on the catch-all stack of a hook once the distinct-stack limit was reached: it counts
   * the further distinct stacks of that hooked function, and `frames` holds only frame 0.
   */
  folded?: true;
  /**
   * The stack was deeper than maxFrames: `frames` holds its innermost maxFrames frames, and its
   * outermost callers (main among them) are missing. Optional: readers that do not know it ignore it.
   */
  truncated?: true;
}

/**
 * The hits as a table in columns (like the Firefox profiler's sample table): row i is one hit.
 * Only the first `maxHits` hits per hook are rows; the counts in `stacks` are complete.
 * A backend may add further columns of the same length (per-hit values such as `args`), with
 * null where a hit has none; readers ignore columns they do not know.
 */
export interface HitTable {
  length: number;
  /** Order of the hit among all hits of the capture. */
  seq: number[];
  /** Index into `Capture.hooks`. */
  hook: number[];
  pid: number[];
  tid: number[];
  /** Index into `Capture.stacks`. */
  stack: number[];
  /** Nanoseconds since the traced program started (0 when the backend does not measure it). */
  ns: number[];
  [column: string]: unknown;
}

export interface CrashInfo extends Hit {
  /** Signal name, e.g. "SIGSEGV". */
  signal: string;
  /** Faulting address for SIGSEGV/SIGBUS/SIGFPE/SIGILL, hex string, else null. */
  faultAddress: string | null;
}

export interface ResolvedHook {
  module: string;
  symbol: string;
  address: string;
  /** The entry of an inlined copy of the function (gdb's `break F` plants these too). */
  inlined?: boolean;
  /**
   * 'part': the body GCC's partial inlining split off (F.part.N), entered from F's inlined head;
   * 'cold': a .cold fragment named by the spec itself; 'ifunc': the implementation the IFUNC
   * resolver `ifunc` (the symbol the spec named, e.g. memcpy) chose on this CPU during the run.
   */
  kind?: 'part' | 'cold' | 'ifunc';
  /** For kind 'ifunc': the IFUNC symbol whose resolver returned this implementation. */
  ifunc?: string;
}

export interface HookResolution {
  spec: string;
  resolved: ResolvedHook[];
}

export interface ExitStatus {
  code: number | null;
  /** Signal name such as "SIGSEGV" when the program was killed by a signal. */
  signal: string | null;
}

export interface CaptureStats {
  /** Every hit, per hook that fired (true count). */
  hits: number;
  /** Rows kept in `hits` (at most maxHits per hook). */
  recorded: number;
  /** Hits counted in `stacks` but not kept as rows (past maxHits). */
  dropped: number;
  durationMs: number;
  /** Number of distinct stacks seen (counted even past maxHits and past the stack limit). */
  uniqueStacks?: number;
  /** Distinct stacks not stored because the stack limit was reached (their hits are in `folded` stacks). */
  foldedStacks?: number;
  /** Hits counted in `folded` stacks. */
  foldedHits?: number;
  /** Distinct stacks cut at maxFrames (each marked `truncated`). */
  truncatedStacks?: number;
  /** True when the run was stopped by the timeout. */
  timedOut?: boolean;
  /** Processes that outlived the main program and were killed at the end. */
  killedLeftovers?: number;
  /** Hooked calls seen returning (`--returns`). */
  returns?: number;
}

export const CAPTURE_SCHEMA = 2;

export interface Capture {
  schema: typeof CAPTURE_SCHEMA;
  backend: 'ptrace' | 'stap';
  command: string[];
  exit: ExitStatus;
  hooks: HookResolution[];
  /** Distinct stacks per hook, in order of first appearance, each with its hit count. */
  stacks: Stack[];
  /** The hits in order, as references into `stacks` and `hooks`. */
  hits: HitTable;
  /** The stack at a fatal signal, in full. */
  crash: CrashInfo | null;
  stats: CaptureStats;
  /** Human-readable notes, e.g. "no debuginfo for /usr/lib/x86_64-linux-gnu/libc.so.6: install libc6-dbg". */
  warnings?: string[];
}

/**
 * A parameter or return value decoded from DWARF types (issue 13). Integers and enums are numbers
 * (decimal strings beyond 2^53), bool is boolean, floating point is a number ("nan", "inf", "-inf"
 * as strings), pointers are hex strings ("0x0" for NULL), structs and unions are objects of their
 * fields, arrays are arrays (bounded, the last element "..." when cut). `char *` and Rust `&str`
 * are a CStringValue, `std::string`/`std::string_view` a TextValue, and the libstdc++ classes gdb's
 * pretty printers show (`std::vector`, `std::unique_ptr`, `std::shared_ptr`, `std::optional`) a
 * PrintedValue. Values that cannot be had are gdb's texts: "<optimized out>",
 * "<unavailable>", "<error: Cannot access memory at address 0x...>".
 */
export type ArgValue = number | string | boolean | null | ArgValue[] | CStringValue | TextValue | PrintedValue | { [field: string]: ArgValue };

/** A `char *` (or `&str`): where it points and the text there (bounded; `truncated` when cut). */
export interface CStringValue {
  ptr: string;
  string: string;
  truncated?: true;
}

/** A `std::string` or `std::string_view`: its text (bounded; `truncated` when cut), printed `"text"` as gdb does. */
export interface TextValue {
  string: string;
  truncated?: true;
}

/**
 * A library class as gdb's pretty printer shows it: its summary (`std::vector of length 3,
 * capacity 4`, `std::unique_ptr<int>`) and its children, elements (`[1, 2, 3]`) or named
 * (`{ 'get()': '0x...' }`, `{ '[contained value]': 3 }`); no children when there are none to show.
 */
export interface PrintedValue {
  summary: string;
  children?: ArgValue[] | { [name: string]: ArgValue };
}

/** The return of one hooked call (`ustack record --returns`). */
export interface ReturnInfo {
  /** null for void functions. */
  value: ArgValue;
  /** Wall time from the entry stop's resume to the return stop, in nanoseconds (tracer stops of nested hooks included). */
  durationNs: number;
}

/** Why a hooked call has `return: null`. */
export type NoReturnReason = 'exception' | 'longjmp' | 'unwound' | 'exit' | 'crash' | 'killed' | 'inlined' | 'not-traced';

/** Schema 1 (before distinct stacks): every hit with its full stack. Read by upgradeCapture(). */
export interface CaptureV1 extends Omit<Capture, 'schema' | 'stacks' | 'hits'> {
  schema: 1;
  hits: Hit[];
}
