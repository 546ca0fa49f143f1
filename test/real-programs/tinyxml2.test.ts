/**
 * Real-program lane: tinyxml2's own test program (xmltest, 463 checks) from Debian's source package
 * (`apt-get source tinyxml2`), compiled with g++ -O2 -g: C++ with templates, virtual functions,
 * overloads, partial-inlining bodies and .isra clones. For every hook location, jest-ustack's hit
 * count equals the kernel uprobe count and gdb's, and every distinct stack equals gdb's.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { shutdownTracer } from '../../src/ptrace/ptrace-backend';
import { cachedBuild, compileAndLink, debianSource } from '../helpers/debian-source';
import { gdbTailCallView, type GdbTailCallView } from '../helpers/gdb-tail-calls';
import { compareWithOracles, oracleTests, type LaneResult } from '../helpers/real-program-lane';
import { uprobesUnavailable } from '../helpers/uprobes';

jest.setTimeout(600000);
afterAll(() => shutdownTracer());

const noUprobes = uprobesUnavailable();
const FLAGS = ['-O2', '-g'];

function buildXmltest(): { binary: string; tree: string } {
  const tree = debianSource('tinyxml2');
  const out = cachedBuild('tinyxml2-xmltest', [tree, FLAGS], (dir) => {
    compileAndLink({ compiler: 'g++', sources: ['xmltest.cpp', 'tinyxml2.cpp'], flags: FLAGS, cwd: tree, out: path.join(dir, 'xmltest'), link: [] });
  });
  return { binary: path.join(out, 'xmltest'), tree };
}

// XMLTest<int>: a function template's .isra clone; XMLPrinter::Putc: a .part body behind inlined
// heads; XMLUtil::ToStr: six overloads; XMLUtil::ToInt and XMLElement::QueryIntAttribute: inlined
// copies; XMLElement::ShallowEqual and XMLNode::DeepClone: virtual calls (DeepClone recursive).
const HOOKS = [
  'XMLTest<int>',
  'tinyxml2::XMLPrinter::Putc',
  'tinyxml2::XMLUtil::ToStr',
  'tinyxml2::XMLUtil::ToInt',
  'tinyxml2::XMLElement::QueryIntAttribute',
  'tinyxml2::XMLElement::ShallowEqual',
  'tinyxml2::XMLNode::DeepClone',
];

// gdb 13 shows fewer tail-call frames than jest-ustack here (test/helpers/gdb-tail-calls.ts):
// XMLPrinter's PushText, PushAttribute and PushUnknown end in `jmp` to the .part body of PrintString
// or Putc, so they are on the logical call path; they also end in an indirect, virtual tail call
// (`jmp *%rax`, Write), and Visit's call site names PushText by its abstract DIE, where gdb's chain
// search gives up.

(noUprobes ? describe.skip : describe)('tinyxml2 xmltest from Debian source, g++ -O2 -g', () => {
  let result: LaneResult;
  let work: string;
  let binary: string;
  let tailCalls: GdbTailCallView;

  beforeAll(async () => {
    const built = buildXmltest();
    binary = built.binary;
    const tree = built.tree;
    // xmltest reads resources/*.xml and writes resources/out/: each run gets its own copy
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-xmltest-'));
    fs.cpSync(path.join(tree, 'resources'), path.join(work, 'resources'), { recursive: true });
    fs.mkdirSync(path.join(work, 'resources', 'out'), { recursive: true });
    tailCalls = gdbTailCallView(binary);
    result = await compareWithOracles(binary, [binary], HOOKS, { cwd: work, asGdbShows: tailCalls.asGdbShows });
  });
  afterAll(() => work && fs.rmSync(work, { recursive: true, force: true }));

  test('the build has the hard cases: clones, overloads and several locations per hook', () => {
    const byHook = new Map(result.hooks.map((h) => [h.hook, h.gdbLocations.length]));
    expect(byHook.get('tinyxml2::XMLUtil::ToStr')).toBeGreaterThanOrEqual(6);
    expect(result.capture.hooks.flatMap((h) => h.resolved).some((r) => r.kind === 'part')).toBe(true);
  });

  oracleTests(() => ({ result, tailCalls }), { adjustsStacks: true });
});

if (noUprobes) {
  test.skip(`real-program lane: kernel uprobes unavailable (${noUprobes})`, () => undefined);
}
