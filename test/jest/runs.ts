/** Real runs for the sandbox-side tests: the real tracer (record) on fixtures, wrapped as trace() would. */
import { buildFixture } from '../helpers/fixtures';
import { record } from '../../src/record';
import { DEFAULT_NORMALIZE, type NormalizeOptions } from '../../src/callpath/normalize';
import { createRun, type Run } from '../../src/jest/run';

export async function tracedRun(
  source: string,
  args: string[],
  hooks: string[],
  opts: { flags?: string[]; variant?: string; rootDir?: string; normalize?: NormalizeOptions; timeout?: number; maxHits?: number; maxStacks?: number } = {},
): Promise<Run> {
  const bin = buildFixture(source, { flags: opts.flags, variant: opts.variant });
  const result = await record([bin, ...args], { hooks, timeout: opts.timeout ?? 30000, maxHits: opts.maxHits, maxStacks: opts.maxStacks });
  const capture = JSON.parse(JSON.stringify(result.capture));
  return createRun(capture, result.stdout, result.stderr, { normalize: { ...DEFAULT_NORMALIZE, ...opts.normalize }, rootDir: opts.rootDir ?? '/nonexistent' });
}
