/**
 * `ustack symbols BIN [PATTERN] [--json]`: what a hook pattern resolves to in a binary (and, with
 * PATTERN@module, in one of its libraries given by path) — the functions that exist, before a run.
 */
import { openElfCached } from '../elf/elf-file';
import { UsageError } from '../errors';
import { resolveHook } from '../symbolize/hook-resolver';
import { parseHookSpec } from '../symbolize/hook-spec';
import { demangle } from '../symbolize/demangle';
import { parseArgs } from './args';

export const usage = `Usage: ustack symbols BIN [PATTERN] [--json]

Lists the functions in BIN (an executable or shared library) that PATTERN matches, as a
--hook would: a name, a glob ('parse_*'), or a C++/Rust name (ns::Klass::method).
Without PATTERN, lists every function.`;

export async function main(args: string[]): Promise<number> {
  const parsed = parseArgs(args, { json: {}, help: {} }, 'symbols');
  if (parsed.flags.help) {
    process.stdout.write(usage + '\n');
    return 0;
  }
  const [bin, pattern] = [...parsed.positional, ...parsed.rest];
  if (!bin) throw new UsageError(`No binary given.\n${usage}`);
  const elf = openElfCached(bin);
  const spec = parseHookSpec(pattern ?? '*');
  const targets = resolveHook({ ...spec, module: null }, [{ path: elf.path, elf }], demangle);
  const rows = targets.map((t) => {
    const sym = elf.symbols().byName(t.symbol)[0];
    return { symbol: demangle(t.symbol), linkage: t.symbol, address: '0x' + t.address.toString(16), size: sym?.size ?? 0, module: t.module };
  });
  if (parsed.flags.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  else for (const r of rows) process.stdout.write(`${r.address} ${String(r.size).padStart(6)} ${r.symbol}${r.linkage !== r.symbol ? `  (${r.linkage})` : ''}\n`);
  return 0;
}
