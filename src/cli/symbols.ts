/**
 * `ustack symbols BIN [PATTERN] [--json]`: where `record --hook PATTERN` would plant its hooks in
 * BIN and the libraries it loads at start — every location with its kind (function entry, the
 * split-off `.part` body, inlined copy) and the `.cold` fragments left out — through the same
 * resolver as `record`, before a run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openElfCached } from '../elf/elf-file';
import { NoDebugInfoError, UsageError } from '../errors';
import { prepareDebugInfo, programModules } from '../elf/debug-prepare';
import { configureDebugSearch, debugSearch, debugSearchFrom } from '../elf/debug-search';
import { debugInfoStatus } from '../elf/debuginfo';
import { missingDebugInfoText } from '../elf/debug-advice';
import { hookModule, planHook, unknownHookError, type HookModule, type HookTarget } from '../symbolize/hook-resolver';
import { parseHookSpec } from '../symbolize/hook-spec';
import { demangle } from '../symbolize/demangle';
import { hasFunctionNames, rustDwarfNames } from '../symbolize/dwarf-names';
import { sharedLibrariesOf } from '../stap/hook-probes';
import { parseArgs } from './args';

export const usage = `Usage: ustack symbols BIN [PATTERN] [--json] [--debug-dir DIR ...]

Lists where \`ustack record --hook PATTERN -- BIN\` plants its hooks: in BIN and in every library
it loads at start, the dynamic linker included, as gdb's \`break\` does (PATTERN@module for one of
them, by name or path). PATTERN is a name, a glob
('parse_*'), or a C++/Rust name (ns::Klass::method; a plain name also matches the last components
of qualified names). Each location has a kind: entry (the function or a .constprop/.isra clone),
part (the body GCC's partial inlining split off, F.part.N), inlined (an inlined copy's entry),
ifunc (an IFUNC resolver such as memcpy's: record hooks the implementation it returns at run
time); .cold fragments, which are never entered by a call, are listed as skipped.
Without PATTERN, lists every function of BIN.
  --json   one JSON object per location: address, size, kind, symbol, linkage, module (gdbBreak: where
           gdb's break F goes past a prologue the line table marks)
  --debug-dir DIR   look for separate debug files under DIR, as \`ustack record --debug-dir\` does
           (repeatable). Default: $USTACK_DEBUG_DIRS, else /usr/lib/debug.`;

interface Row {
  address: string;
  size: number | null;
  kind: string;
  symbol: string;
  linkage: string;
  module: string;
  /** Where gdb's `break F` goes when the line table marks F's prologue end (rustc): the hook stays at `address`. */
  gdbBreak?: string;
}

export async function main(args: string[]): Promise<number> {
  // `ustack symbols BIN | head`: a closed pipe ends the listing, not with a stack trace
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const parsed = parseArgs(args, { json: {}, help: {}, 'debug-dir': { value: true, multiple: true } }, 'symbols');
  if (parsed.flags.help) {
    process.stdout.write(usage + '\n');
    return 0;
  }
  const [bin, pattern] = [...parsed.positional, ...parsed.rest];
  if (!bin) throw new UsageError(`No binary given.\n${usage}`);
  configureDebugSearch(debugSearchFrom(process.env, parsed.flags['debug-dir'] as string[] | undefined, '--debug-dir'));
  const elf = openElfCached(bin);
  const spec = parseHookSpec(pattern ?? '*');
  // the debug info record would get (debuginfod, MiniDebugInfo), so both answer the same
  await prepareDebugInfo(pattern !== undefined ? await programModules(elf.path) : [elf.path], debugSearch(), (line) => process.stderr.write(line + '\n'));
  const modules: HookModule[] = [hookModule(elf.path, elf, elf.interpreter !== null || !/\.so(\.|$)/.test(path.basename(elf.path)))];
  if (pattern !== undefined) {
    // the libraries record would search after BIN (a module given by path is opened even when ldd does not list it)
    const libs = sharedLibrariesOf(elf.path);
    // the dynamic linker too: record searches it like any loaded module (its private memcpy, for one)
    if (elf.interpreter) {
      const interp = realpathOr(elf.interpreter);
      if (!libs.includes(interp)) libs.push(interp);
    }
    if (spec.module?.startsWith('/') && !libs.includes(path.resolve(spec.module))) libs.push(path.resolve(spec.module));
    for (const lib of libs) {
      try {
        modules.push(hookModule(lib, openElfCached(lib), false));
      } catch {
        // an unreadable library is reported by record when it is loaded
      }
    }
  }
  const plan = planHook(spec, modules, demangle);
  if (plan.locations.length === 0) {
    if (!debugInfoStatus(elf).fullSymbols) throw new NoDebugInfoError(elf.path, missingDebugInfoText(elf, `"${spec.text}" matches none of its exported functions, and its other functions have no names without it`), elf.buildId);
    throw unknownHookError(spec, modules, demangle);
  }
  const sizeOf = (t: { module: string; symbol: string }): number | null => {
    const m = modules.find((x) => x.path === t.module)!;
    return m.elf.symbols().byName(t.symbol)[0]?.size ?? null;
  };
  // a Rust function (or a C++ local class's member) is listed by the name its frames show (gdb's, from DWARF), not by its demangled symbol
  const shownName = (t: HookTarget): string => {
    const bare = t.symbol.replace(/@.*$/, '');
    const debug = modules.find((x) => x.path === t.module)?.debug;
    if (/^_R|^_ZN.*17h[0-9a-f]{16}E/.test(bare) && hasFunctionNames(debug)) {
      const dwarf = rustDwarfNames(debug).get(bare.replace(/\.llvm\.\d+$/, ''));
      if (dwarf) return dwarf[0];
    }
    // a C++ local class's member (GCC gives it no DWARF linkage name): the DWARF function at that address
    if (bare.startsWith('_ZZ') && hasFunctionNames(debug)) {
      const f = debug.functions().find((fn) => fn.ranges.some((r) => r[0] === t.address));
      const d = demangle(bare);
      const at = f && !f.qualifiedName.includes('{unnamed}') ? d.indexOf(f.qualifiedName + '(') : -1;
      if (at > 0) return d.slice(at);
    }
    return demangle(bare);
  };
  const rows: Row[] = plan.locations.map((t: HookTarget) => ({
    address: '0x' + t.address.toString(16),
    size: t.kind === 'inlined' ? null : sizeOf(t),
    kind: t.isIfunc ? 'ifunc' : t.kind,
    symbol: t.kind === 'inlined' ? t.symbol : shownName(t),
    linkage: t.symbol,
    module: t.module,
    ...(t.breakAddress !== undefined ? { gdbBreak: '0x' + t.breakAddress.toString(16) } : {}),
  }));
  for (const s of plan.skipped) {
    rows.push({ address: '0x' + s.address.toString(16), size: sizeOf(s), kind: 'skipped .cold', symbol: demangle(s.symbol), linkage: s.symbol, module: s.module });
  }
  if (parsed.flags.json) {
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    return 0;
  }
  // the module is named unless every row is BIN's own: an address is an offset in the module it names
  const onlyBin = rows.every((r) => r.module === elf.path);
  for (const r of rows) {
    const linkage = r.kind === 'ifunc' ? '  (IFUNC resolver: record hooks the implementation it returns on this CPU)' : r.linkage !== r.symbol ? `  (${r.linkage})` : '';
    const where = (onlyBin ? '' : `  [${r.module}]`) + (r.gdbBreak ? `  (gdb's break F: ${r.gdbBreak}, past the prologue)` : '');
    process.stdout.write(`${r.address} ${String(r.size ?? '-').padStart(6)} ${r.kind.padEnd(13)} ${r.symbol}${linkage}${where}\n`);
  }
  return 0;
}

function realpathOr(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}
