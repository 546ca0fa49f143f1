/**
 * Real Jest runs on the fixture projects under test/e2e/projects/: each project is copied to a
 * temporary folder with node_modules/jest-ustack linked to this repository (so the published entry
 * points, compiled in dist/, are what runs) and the fixture binaries copied into its build/ folder.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildFixture, type BuildOptions } from '../helpers/fixtures';

export const ROOT = path.resolve(__dirname, '..', '..');
const JEST = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');

export interface JestResult {
  status: number | null;
  /** stdout + stderr, ANSI colours removed. */
  output: string;
}

export class JestProject {
  readonly dir: string;

  /** `packages`: more of this repository's node_modules to link into the project (ts-jest, typescript). */
  constructor(name: string, binaries: Record<string, [string, BuildOptions?]> = {}, packages: string[] = []) {
    for (const entry of ['dist/index.js', 'dist/jest/environment.js', 'dist/jest/setup.js', 'dist/jest/serializer.js', 'jest-preset.js']) {
      if (!fs.existsSync(path.join(ROOT, entry))) throw new Error(`${entry} is missing: run \`npm run build\` before the e2e tests.`);
    }
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `ustack-e2e-${name}-`));
    fs.cpSync(path.join(__dirname, 'projects', name), this.dir, { recursive: true });
    fs.mkdirSync(path.join(this.dir, 'node_modules'), { recursive: true });
    fs.symlinkSync(ROOT, path.join(this.dir, 'node_modules', 'jest-ustack'), 'dir');
    for (const name of packages) {
      fs.mkdirSync(path.dirname(path.join(this.dir, 'node_modules', name)), { recursive: true });
      fs.symlinkSync(path.join(ROOT, 'node_modules', name), path.join(this.dir, 'node_modules', name), 'dir');
    }
    fs.mkdirSync(path.join(this.dir, 'build'), { recursive: true });
    for (const [name, [source, options]] of Object.entries(binaries)) {
      fs.copyFileSync(buildFixture(source, options), path.join(this.dir, 'build', name));
      fs.chmodSync(path.join(this.dir, 'build', name), 0o755);
    }
  }

  run(args: string[] = [], env: Record<string, string> = {}): JestResult {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    for (const key of Object.keys(childEnv)) if (key.startsWith('USTACK_') && !(key in env)) delete childEnv[key];
    delete childEnv.JEST_WORKER_ID;
    delete childEnv.CI; // CI=true would make Jest refuse to write snapshots; tests pass --ci where they mean it
    delete childEnv.GITHUB_STEP_SUMMARY;
    const r = spawnSync(process.execPath, [JEST, '--rootDir', this.dir, '--no-cache', ...args], {
      cwd: this.dir,
      env: childEnv,
      encoding: 'utf8',
      timeout: 300000,
    });
    return { status: r.status, output: (r.stdout + r.stderr).replace(/\u001b\[[0-9;]*m/g, '') };
  }

  file(relative: string): string {
    return path.join(this.dir, relative);
  }

  read(relative: string): string {
    return fs.readFileSync(this.file(relative), 'utf8');
  }

  write(relative: string, text: string): void {
    fs.writeFileSync(this.file(relative), text);
  }

  /** Processes whose command line mentions this project's folder. */
  processes(): string[] {
    const out = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout;
    return out.split('\n').filter((line) => line.includes(path.join(this.dir, 'build')) && !line.includes('ps -eo'));
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
