/**
 * End to end: the fixtures' call paths under both backends must be the same. This needs a host
 * where stap can really load its module; everywhere else the tests are reported as skipped with
 * `ustack doctor`'s reason in their names. Nothing here pretends a stap run happened.
 * The runs go through the built CLI (dist/cli.js, made by `npm test`), outside Jest's sandbox,
 * because execa is ESM-only.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Capture } from '../../src/capture/types';
import { mergeCallPaths, joinCallPath } from '../../src/callpath';
import { BackendUnavailableError } from '../../src/errors';
import { diagnoseStapSync } from '../../src/stap/diagnose';
import { recordWithStap } from '../../src/stap/stap-backend';
import { buildFixture } from '../helpers/fixtures';

const diagnosis = diagnoseStapSync();
const reason = diagnosis.reasons.join('; ');
const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');

function recordJson(backend: 'ptrace' | 'stap', hooks: string[], argv: string[]): Promise<Capture> {
  const args = [CLI, 'record', '--backend', backend, '--format', 'json', ...hooks.flatMap((h) => ['--hook', h]), '--', ...argv];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { encoding: 'utf8', maxBuffer: 256 << 20, timeout: 600000 }, (err, stdout, stderr) => {
      // the CLI exits with the program's code; the capture is on stdout either way
      const start = stdout.indexOf('{\n');
      if (start < 0) reject(new Error(`ustack record --backend ${backend} printed no capture: ${err?.message ?? ''}\n${stderr}`));
      else resolve(JSON.parse(stdout.slice(start)) as Capture);
    });
  });
}

function paths(capture: Capture): string[] {
  return mergeCallPaths(capture.stacks).map((m) => `${m.hook}: ${joinCallPath(m.path)} x${m.count}`);
}

const cases: Array<{ name: string; src: string; flags?: string[]; libs?: string[]; hooks: string[]; args: string[] }> = [
  { name: 'chain -O0', src: 'chain.c', hooks: ['leaf'], args: ['3'] },
  { name: 'chain -O2 -fomit-frame-pointer', src: 'chain.c', flags: ['-O2', '-g', '-fomit-frame-pointer'], hooks: ['leaf', 'mid'], args: ['4'] },
  { name: 'threads', src: 'threads.c', libs: ['-lpthread'], hooks: ['leaf'], args: ['3'] },
  { name: 'libc_calls', src: 'libc_calls.c', hooks: ['malloc@libc.so.6', 'by_value'], args: ['8'] },
];

if (diagnosis.canRun) {
  describe('call paths under stap equal those under ptrace', () => {
    beforeAll(() => {
      if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does).`);
    });
    test.each(cases)('$name', async (c) => {
      const binary = buildFixture(c.src, { flags: c.flags ?? ['-O0', '-g'], libs: c.libs, variant: 'stap-e2e' });
      const [viaPtrace, viaStap] = await Promise.all([recordJson('ptrace', c.hooks, [binary, ...c.args]), recordJson('stap', c.hooks, [binary, ...c.args])]);
      expect(viaStap.backend).toBe('stap');
      expect(viaStap.hits.length).toBeGreaterThan(0);
      expect(viaStap.exit).toEqual(viaPtrace.exit);
      // threads interleave differently between runs: compare the merged paths as sets
      expect(paths(viaStap).sort()).toEqual(paths(viaPtrace).sort());
    });
  });
} else {
  describe('stap end to end', () => {
    for (const c of cases) test.skip(`${c.name}: call paths under stap vs ptrace — skipped, stap cannot run here: ${reason}`, () => undefined);

    test('recordWithStap fails fast with doctor\'s reason and exit code 2, without running anything', async () => {
      const binary = buildFixture('chain.c', { variant: 'stap-e2e' });
      const started = Date.now();
      const err = await recordWithStap([binary, '1'], { hooks: ['leaf'] }).catch((e) => e);
      expect(err).toBeInstanceOf(BackendUnavailableError);
      expect(err.exitCode).toBe(2);
      expect(err.message).toContain(diagnosis.reasons[0]);
      expect(Date.now() - started).toBeLessThan(30000);
    });
  });
}
