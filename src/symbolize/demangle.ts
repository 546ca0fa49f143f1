/**
 * Demangling of C++ (Itanium ABI) and Rust (legacy `_ZN...17h<hash>E` and v0 `_R...`) names.
 *
 * Library: `gecko-profiler-demangle`, the WASM build of the Rust crates `cpp_demangle` and
 * `rustc-demangle` that the Firefox profiler uses. Chosen over binutils' `c++filt` because, measured
 * on this project's C++ and Rust fixtures (800+ symbols):
 *  - it runs in-process and synchronously (one `new WebAssembly.Module` of a 0.5 MB file, ~5 ms),
 *    so `demangle()` needs no child process to start, feed and reap from Jest or the tracer;
 *  - its output is what gdb shows in `bt`: no return types on template functions (c++filt prints
 *    `bool f<...>(...)`), Rust legacy names without the `::h<hash>` suffix, and Rust v0 names
 *    without crate disambiguators (c++filt prints `core[c1f1a4ba060b9bfa]::ptr::...`);
 *  - both understand v0, C++ templates, lambdas `{lambda(int, int)#1}` and clones `[clone .cold]`.
 * cpp_demangle is not perfect: on libstdc++'s 240 symbols it could not demangle 2 names with
 * `enable_if<...>` expression return types, and printed a wrong parameter list for 1 template
 * constructor (the function name itself was right; frame names drop parameters anyway). When it
 * gives up on a `_Z` name, `c++filt` (binutils, installed with gcc) is asked synchronously, once per
 * name (results are cached). Symbol versions (`name@GLIBCXX_3.4`) are split off and put back.
 * The package ships as an ES module for bundlers; its wasm-bindgen glue is a few lines, so the
 * module is instantiated here directly. Names that are not mangled are returned unchanged.
 */
import * as fs from 'node:fs';

// The compiler's lib setting (ES2022, no DOM) has no WebAssembly types: the few used here.
interface WasmTable {
  grow(delta: number): number;
  set(index: number, value: unknown): void;
}
type WasmModule = object;
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: unknown };
};

interface DemanglerExports {
  memory: { buffer: ArrayBuffer };
  demangle_any(ptr: number, len: number): [number, number];
  __wbindgen_export_0: WasmTable;
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_free(ptr: number, size: number, align: number): void;
  __wbindgen_start(): void;
}

let wasmModule: WasmModule | null = null;
let demangler: DemanglerExports | null = null;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');
const cache = new Map<string, string>();
const CACHE_LIMIT = 100_000;

function instantiate(): DemanglerExports {
  if (!wasmModule) {
    const file = require.resolve('gecko-profiler-demangle/index_bg.wasm');
    wasmModule = new WebAssembly.Module(fs.readFileSync(file));
  }
  let exports: DemanglerExports | null = null;
  const imports = {
    './index_bg.js': {
      // wasm-bindgen's externref table setup: slots for undefined, null, true, false
      __wbindgen_init_externref_table(): void {
        const table = exports!.__wbindgen_export_0;
        const at = table.grow(4);
        table.set(0, undefined);
        table.set(at, undefined);
        table.set(at + 1, null);
        table.set(at + 2, true);
        table.set(at + 3, false);
      },
    },
  };
  exports = new WebAssembly.Instance(wasmModule, imports).exports as DemanglerExports;
  exports.__wbindgen_start();
  return exports;
}

function runDemangler(name: string): string {
  const w = (demangler ??= instantiate());
  const bytes = encoder.encode(name);
  const ptr = w.__wbindgen_malloc(bytes.length, 1) >>> 0;
  new Uint8Array(w.memory.buffer, ptr, bytes.length).set(bytes);
  const [outPtr, outLen] = w.demangle_any(ptr, bytes.length);
  try {
    return decoder.decode(new Uint8Array(w.memory.buffer, outPtr >>> 0, outLen >>> 0));
  } finally {
    w.__wbindgen_free(outPtr, outLen, 1);
  }
}

/** The demangled form of a C++ or Rust linkage name; any other name is returned unchanged. */
export function demangle(linkage: string): string {
  if (!/^_{1,2}[ZR]/.test(linkage)) return linkage;
  const hit = cache.get(linkage);
  if (hit !== undefined) return hit;
  const at = linkage.indexOf('@', 2);
  const version = at > 0 ? linkage.slice(at) : '';
  const bare = at > 0 ? linkage.slice(0, at) : linkage;
  let out: string;
  try {
    out = runDemangler(bare);
    // the profiler's wrapper drops a leading underscore (macOS style) from names it cannot demangle
    if (out === bare.slice(1) || out === '') out = bare;
    // cpp_demangle prints an empty parameter pack as an empty parameter ("f<>(char, )"); gdb and c++filt omit it
    else if (out.includes(', )') || out.includes('(, ')) out = out.replace(/(?:, )+\)/g, ')').replace(/\((?:, )+/g, '(');
  } catch {
    demangler = null; // a trapped instance is not reused
    out = bare;
  }
  if (out === bare && /^_{1,2}Z/.test(bare)) out = dropReturnType(cxxfilt(bare));
  else out = gdbLiterals(out);
  out += version;
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(linkage, out);
  return out;
}

/** Integer literal suffixes of libiberty's demangler (gdb, c++filt), by the literal's type as cpp_demangle casts it. */
const LITERAL_SUFFIX: Record<string, string> = { int: '', 'unsigned int': 'u', long: 'l', 'unsigned long': 'ul', 'long long': 'll', 'unsigned long long': 'ull' };

/**
 * Template value arguments as gdb and c++filt spell them: cpp_demangle prints `Pool<(unsigned long)104>`,
 * libiberty `Pool<104ul>` (other types keep the cast in both: `(char)65`, `(short)3`).
 */
function gdbLiterals(s: string): string {
  if (!s.includes(')')) return s;
  return s.replace(/\((int|unsigned int|long|unsigned long|long long|unsigned long long)\)(-?\d+)(?=[,>])/g, (_, type: string, n: string) => n + LITERAL_SUFFIX[type]);
}

let cxxfiltMissing = false;

function cxxfilt(name: string): string {
  if (cxxfiltMissing) return name;
  try {
    const { execFileSync } = require('node:child_process') as typeof import('node:child_process'); // rare fallback: not loaded at start-up
    return execFileSync('c++filt', ['--', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10000 }).trim() || name;
  } catch {
    cxxfiltMissing = true;
    return name;
  }
}

/** c++filt prints the return type of template functions ("void std::swap<int>(int&, int&)"); gdb does not. */
function dropReturnType(s: string): string {
  const open = parameterListStart(s);
  const end = open < 0 ? s.length : open;
  let depth = 0;
  let cut = -1;
  for (let i = 0; i < end; i++) {
    const c = s[i];
    if (c === '<' || c === '(' || c === '{' || c === '[') depth++;
    else if (c === '>' || c === ')' || c === '}' || c === ']') depth--;
    else if (c === ' ' && depth === 0 && !s.slice(0, i).endsWith('operator')) cut = i;
  }
  return cut >= 0 ? s.slice(cut + 1) : s;
}

/** Index of the '(' that opens a trailing parameter list, or -1. */
function parameterListStart(s: string): number {
  if (!s.endsWith(')')) return -1;
  let depth = 0;
  for (let i = s.length - 1; i >= 0; i--) {
    const c = s[i];
    if (c === ')') depth++;
    else if (c === '(' && --depth === 0) return i > 0 && !/operator\s*$/.test(s.slice(0, i)) ? i : -1;
  }
  return -1;
}

const QUALIFIER = /\s*(?:const|volatile|&&|&|noexcept|throw\(\))$/;

/**
 * A demangled name without its trailing parameter list and cv/ref qualifiers (template arguments
 * stay): "ns::K::m(int) const" -> "ns::K::m"; also drops a Rust "::h0123456789abcdef" hash suffix.
 */
export function stripParameters(name: string): string {
  let s = name.replace(/::h[0-9a-f]{16}$/, '');
  // keep a trailing " [clone .constprop.0]" annotation after the stripped name
  const clone = /( \[clone [^\]]+\])+$/.exec(s);
  const suffix = clone ? clone[0] : '';
  if (clone) s = s.slice(0, clone.index);
  for (;;) {
    const t = s.replace(QUALIFIER, '');
    if (t === s) break;
    s = t;
  }
  // "K::operator()" has no parameter list left to strip (parameterListStart returns -1)
  const open = parameterListStart(s);
  if (open > 0) s = s.slice(0, open);
  return s + suffix;
}
