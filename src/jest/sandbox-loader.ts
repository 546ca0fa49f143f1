/**
 * Evaluates our own compiled sandbox-side modules (trace-client and the pure modules it needs)
 * inside a test file's vm context, so the global `trace` the environment installs builds its
 * values in the test's realm: a Run made with the environment's
 * Array/Object would fail toEqual/toStrictEqual in tests.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';

const WRAPPER_PARAMS = ['exports', 'require', 'module', '__filename', '__dirname'];

/** The folder of compiled JS: dist/ itself, or dist/ next to src/ when this file runs from TypeScript. */
function compiledRoot(): string {
  const here = path.resolve(__dirname, '..');
  return __filename.endsWith('.ts') ? path.resolve(here, '..', 'dist') : here;
}

export class SandboxLoader {
  private readonly cache = new Map<string, { exports: unknown }>();
  private readonly root = compiledRoot();

  constructor(private readonly context: vm.Context) {}

  /** Loads `dist/<relative>.js` (and its relative requires) into the context; returns its exports. */
  load(relative: string): any {
    return this.loadFile(path.join(this.root, relative.endsWith('.js') ? relative : relative + '.js'));
  }

  private loadFile(file: string): unknown {
    const cached = this.cache.get(file);
    if (cached) return cached.exports;
    if (!fs.existsSync(file)) throw new Error(`jest-ustack: ${file} is missing; run \`npm run build\` in the jest-ustack package.`);
    const module = vm.runInContext('({ exports: {} })', this.context) as { exports: unknown };
    this.cache.set(file, module);
    const fn = vm.compileFunction(fs.readFileSync(file, 'utf8'), WRAPPER_PARAMS, { parsingContext: this.context, filename: file });
    const dir = path.dirname(file);
    const require = (id: string) => {
      if (!id.startsWith('.')) throw new Error(`jest-ustack: sandbox module ${file} may only require its own files, not "${id}"`);
      const target = path.resolve(dir, id);
      return this.loadFile(target.endsWith('.js') ? target : target + '.js');
    };
    fn.call(module.exports, module.exports, require, module, file, dir);
    return module.exports;
  }
}
