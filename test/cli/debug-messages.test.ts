/**
 * What the CLI says when debug info is missing, and about scripts (the new-user test drive): a
 * stripped chain fixture with a .gnu_debuglink, its debug file kept aside; gdb's own debug-file
 * search (`set debug separate-debug-file on`) is the oracle for the paths searched; dpkg for the
 * package that owns a library.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildFixture } from '../helpers/fixtures';

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');

function ustack(args: string[], cwd?: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, DEBUGINFOD_URLS: '' };
  delete env.USTACK_DEBUG_DIRS;
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60000, env, cwd });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let tmp: string;
let binDir: string;
let stripped: string; // --strip-all: no .symtab, a .gnu_debuglink to chain.debug
let symtabOnly: string; // --strip-debug: .symtab kept, no DWARF
let tree: string; // a debug directory holding the debug file under the program's folder
let empty: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-debug-messages-'));
  binDir = path.join(tmp, 'bin');
  empty = path.join(tmp, 'empty');
  tree = path.join(tmp, 'tree');
  for (const d of [binDir, empty]) fs.mkdirSync(d);
  const full = path.join(tmp, 'chain-full');
  fs.copyFileSync(buildFixture('chain.c'), full);
  const debug = path.join(tmp, 'chain.debug');
  execFileSync('objcopy', ['--only-keep-debug', full, debug]);
  stripped = path.join(binDir, 'chain');
  execFileSync('strip', ['--strip-all', full, '-o', stripped]);
  execFileSync('objcopy', [`--add-gnu-debuglink=${debug}`, stripped]);
  symtabOnly = path.join(binDir, 'chain-symtab');
  execFileSync('strip', ['--strip-debug', full, '-o', symtabOnly]);
  fs.mkdirSync(path.join(tree, binDir), { recursive: true });
  fs.copyFileSync(debug, path.join(tree, binDir, 'chain.debug'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The files gdb tries for `file` with `dirs` as its debug-file-directory, in its order. */
function gdbTries(file: string, dirs: string): string[] {
  const r = spawnSync('gdb', ['-nx', '-batch', '-ex', `set debug-file-directory ${dirs}`, '-ex', 'set debug separate-debug-file on', '-ex', `file ${file}`], { encoding: 'utf8' });
  const out = r.stdout + r.stderr; // gdb's debug output goes to stderr
  return [...out.matchAll(/^\s+Trying (?!target:)(\S+?)\.\.\./gm)].map((m) => path.normalize(m[1]));
}

describe('ustack doctor --debug-dir', () => {
  test('takes --debug-dir as its own advice says, and finds the debug file there', () => {
    const found = ustack(['doctor', stripped, '--debug-dir', tree]);
    expect(found.stderr).not.toContain('Unknown option');
    expect(found.stdout).toContain(`DWARF in ${path.join(tree, binDir, 'chain.debug')}`);
    expect(found.stdout).toContain(`debug directories ${tree};`);
    expect(found.stdout).not.toContain('debug info is missing');
    const missing = ustack(['doctor', '--debug-dir', empty, stripped]);
    expect(missing.stdout).toContain('debug info is missing');
    expect(missing.stdout).toContain(`(--debug-dir or USTACK_DEBUG_DIRS, now ${empty})`);
  });
});

describe('the debug-info-missing error', () => {
  test('lists every path searched, in the order gdb searches them', () => {
    const r = ustack(['record', '--debug-dir', empty, '--hook', 'leaf', '--', stripped]);
    expect(r.code).toBe(2);
    const tried = gdbTries(stripped, empty);
    expect(tried).toEqual([
      expect.stringContaining(path.join(empty, '.build-id')),
      path.join(binDir, 'chain.debug'),
      path.join(binDir, '.debug', 'chain.debug'),
      path.join(empty, binDir, 'chain.debug'),
    ]);
    const looked = /\(looked for (.*?)\): hook/.exec(r.stderr)?.[1] ?? '';
    expect(looked.split(/, (?:its \.gnu_debuglink "chain\.debug" as )?/)).toEqual(tried);
    expect(r.stderr).toContain(`(--debug-dir or USTACK_DEBUG_DIRS, now ${empty})`);
  });
});

describe('the no-debug-info warning', () => {
  test('says names are missing too when the program has no symbol table, lines only when it has one', () => {
    const bare = ustack(['record', '--debug-dir', empty, '--hook', 'printf@libc.so.6', '--', stripped]);
    expect(bare.code).toBe(0);
    const bareWarning = bare.stderr.split('\n').find((l) => l.includes(`No debug information for ${stripped}:`)) ?? '';
    expect(bareWarning).toContain('no symbol table either, so only its exported functions are named');
    expect(bareWarning).not.toContain('show function names');
    // the stack says the same: the program's frames have no names
    expect(ustack(['record', '--debug-dir', empty, '--hook', 'printf@libc.so.6', '--', stripped]).stdout).toMatch(/ \?\? \[.*\/bin\/chain\]/);
    const named = ustack(['record', '--debug-dir', empty, '--hook', 'leaf', '--', symtabOnly]);
    expect(named.code).toBe(0);
    expect(named.stdout).toMatch(/ mid\+0x[0-9a-f]+\/0x[0-9a-f]+ \[/);
    const namedWarning = named.stderr.split('\n').find((l) => l.includes(`No debug information for ${symtabOnly}:`)) ?? '';
    expect(namedWarning).toContain('its frames show function names without file:line');
  });

  test("a library's warning names its own package's debug package, as dpkg says who owns it", () => {
    const cpp = buildFixture('cpp_calc.cc');
    const r = ustack(['record', '--hook', 'malloc', '--max-hits', '5', '--', cpp]);
    expect(r.code).toBe(0);
    const lib = /No debug information for (\S*libstdc\+\+\S*):/.exec(r.stderr)?.[1];
    const dpkg = spawnSync('dpkg', ['-S', lib ?? 'none'], { encoding: 'utf8' });
    if (!lib || dpkg.status !== 0) {
      // its debug package is installed (no warning), or this is not a dpkg system: nothing to name
      expect(r.stderr).not.toContain('libc6-dbg`');
      return;
    }
    const pkg = dpkg.stdout.split(':')[0];
    const warning = r.stderr.split('\n').find((l) => l.includes(`No debug information for ${lib}:`))!;
    expect(warning).toContain(`"${pkg}"`);
    expect(warning).toContain(`apt-get install ${pkg}-dbgsym`);
    expect(warning).not.toContain('libc6-dbg');
  });
});

describe('scripts', () => {
  let script: string;
  beforeAll(() => {
    script = path.join(tmp, 'wrap.sh');
    fs.writeFileSync(script, `#!/bin/sh\nexec ${stripped.replace(/chain$/, 'chain-symtab')} 2\n`, { mode: 0o755 });
  });

  test('a hook not in the shell suggests naming the module of the program the script starts; that form works', () => {
    const r = ustack(['record', '--hook', 'leaf', '--', 'sh', script]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Hook "leaf" matches no function in \S+ \(a shell running \S*wrap\.sh\) or the libraries it loads/);
    expect(r.stderr).toContain('name that program\'s module: "leaf@PROGRAM"');
    expect(r.stderr).not.toContain('dbgsym');
    const named = ustack(['record', '--hook', 'leaf@chain-symtab', '--', 'sh', script]);
    expect(named.code).toBe(0);
    expect(named.stderr).toMatch(/^-- 4 hit\(s\)/m);
  });

  test('a script traced directly: the not-ELF error says it is a script and how to trace it', () => {
    const r = ustack(['record', '--hook', 'leaf', '--', script]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`"${script}" is a script (#!/bin/sh), not an ELF file`);
    expect(r.stderr).toContain(`\`/bin/sh ${script}\``);
    expect(r.stderr).toContain('FUNCTION@PROGRAM');
  });
});
