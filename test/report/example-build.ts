/** Builds example-project's cfgtool into a private folder (not the project's own build/). */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const EXAMPLE_ROOT = path.resolve(__dirname, '..', '..', 'example-project');

export function buildCfgtool(): string {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-report-cfgtool-'));
  execFileSync('make', ['-s', '-C', EXAMPLE_ROOT, `BUILD=${out}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  return path.join(out, 'cfgtool');
}
