/**
 * `ustack stap-compile --kernel HEADERS --out DIR --hook SPEC [...] -- PROG`: compile here, run
 * there. Builds the SystemTap module that `ustack record --backend stap` (or a Jest run with
 * `@ustack-backend stap`) will look for on a target host with USTACK_STAP_MODULES=DIR, where
 * only staprun is needed. PROG's path, the hooks and the limits must be the ones the target uses.
 */
import { UsageError } from '../errors';
import { compileStapModule, resolveProgram } from '../stap/stap-backend';
import { intFlag, parseArgs } from './args';

export const usage = `Usage: ustack stap-compile --kernel HEADERS --out DIR [--runtime DIR] --hook SPEC [--hook SPEC ...]
                          [--max-frames N] [--max-hits N] [--no-follow] -- PROG

Compiles the stap probe module for tracing PROG with these hooks on the kernel whose build tree
(headers) is HEADERS, into DIR. On the target, run \`USTACK_STAP_MODULES=DIR ustack record
--backend stap --hook SPEC ... -- PROG ...\` with the same program path, hooks and limits.
--runtime names a patched copy of SystemTap's runtime (stap -R).`;

export async function main(args: string[]): Promise<number> {
  const parsed = parseArgs(
    args,
    { kernel: { value: true }, out: { value: true }, runtime: { value: true }, hook: { value: true, multiple: true }, 'max-frames': { value: true }, 'max-hits': { value: true }, 'no-follow': {}, help: {} },
    'stap-compile',
  );
  if (parsed.flags.help) {
    process.stdout.write(usage + '\n');
    return 0;
  }
  const kernel = parsed.flags.kernel as string | undefined;
  const out = parsed.flags.out as string | undefined;
  const [prog] = parsed.rest.length ? parsed.rest : parsed.positional;
  if (!kernel || !out || !prog) throw new UsageError(`--kernel, --out and the program are required.\n${usage}`);
  const compiled = await compileStapModule(
    resolveProgram(prog),
    {
      hooks: (parsed.flags.hook as string[] | undefined) ?? [],
      maxFrames: intFlag(parsed.flags['max-frames'], 'max-frames'),
      maxHits: intFlag(parsed.flags['max-hits'], 'max-hits'),
      followChildren: !parsed.flags['no-follow'],
    },
    { kernelBuildDir: kernel, runtimeDir: parsed.flags.runtime as string | undefined, outDir: out },
  );
  process.stdout.write(compiled.module + '\n');
  return 0;
}
