/**
 * Real-program lane: Debian's Lua 5.4 interpreter (`apt-get source lua5.4`), compiled at -O2 -g,
 * running a workload of ours. For every location of each hook (clones, partial-inlining bodies,
 * inlined copies), jest-ustack's hit count equals the kernel uprobe count and gdb's, and every
 * distinct stack equals gdb's at those breakpoints.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { shutdownTracer } from '../../src/ptrace/ptrace-backend';
import { cachedBuild, compileAndLink, debianSource } from '../helpers/debian-source';
import { FIXTURES } from '../helpers/fixtures';
import { gdbTailCallView, type GdbTailCallView } from '../helpers/gdb-tail-calls';
import { compareWithOracles, oracleTests, type LaneResult } from '../helpers/real-program-lane';
import { uprobesUnavailable } from '../helpers/uprobes';

jest.setTimeout(600000);
afterAll(() => shutdownTracer());

const noUprobes = uprobesUnavailable();
const WORKLOAD = path.join(FIXTURES, 'real-programs', 'workload.lua');
const FLAGS = ['-O2', '-g', '-DLUA_COMPAT_5_3', '-DLUA_USE_LINUX'];

function buildLua(): string {
  const tree = debianSource('lua5.4');
  const out = cachedBuild('lua5.4', [tree, FLAGS], (dir) => {
    const src = path.join(tree, 'src');
    // Debian's luaconf.h patch includes the header its rules file generates: the same one line
    fs.writeFileSync(path.join(dir, 'lua5.4-deb-multiarch.h'), '#define DEB_HOST_MULTIARCH "x86_64-linux-gnu"\n');
    const sources = fs.readdirSync(src).filter((f) => f.endsWith('.c') && f !== 'luac.c');
    compileAndLink({ compiler: 'gcc', sources, flags: [...FLAGS, `-I${dir}`], cwd: src, out: path.join(dir, 'lua'), link: ['-lm', '-ldl', '-Wl,-E'] });
  });
  return path.join(out, 'lua');
}

// singlematch: a .part.0.isra.0 clone plus inlined copies; luaV_concat: a .part body entered from
// inlined heads; luaH_getshortstr: hot leaf with inlined copies; sort_comp: table.sort's callback
// helper; luaD_precall: every Lua and C call (recursion).
const HOOKS = ['singlematch', 'luaV_concat', 'luaH_getshortstr', 'sort_comp', 'luaD_precall'];

(noUprobes ? describe.skip : describe)('lua5.4 from Debian source, -O2 -g', () => {
  let lua: string;
  let result: LaneResult;
  let tailCalls: GdbTailCallView;

  beforeAll(async () => {
    lua = buildLua();
    tailCalls = gdbTailCallView(lua);
    result = await compareWithOracles(lua, [lua, WORKLOAD], HOOKS, { asGdbShows: tailCalls.asGdbShows });
  });

  test('the build has the hard cases: clones and several locations per hook', () => {
    const byHook = new Map(result.hooks.map((h) => [h.hook, h.gdbLocations.length]));
    expect(byHook.get('singlematch')).toBeGreaterThan(1);
    expect(byHook.get('luaH_getshortstr')).toBeGreaterThan(1);
    expect(result.capture.hooks.flatMap((h) => h.resolved).some((r) => r.kind === 'part' || /\.(part|isra|constprop)\./.test(r.symbol))).toBe(true);
  });

  oracleTests(() => ({ result, tailCalls }));
});

if (noUprobes) {
  test.skip(`real-program lane: kernel uprobes unavailable (${noUprobes})`, () => undefined);
}
