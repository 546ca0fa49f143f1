/**
 * C++ template arguments and operator names in call paths: splitting printed paths and patterns,
 * stripping template arguments, and matching `<...>` steps. Names come from a real g++ -O2 build
 * (nm + c++filt) and from gdb backtraces of it; our tracer's paths are compared with gdb's.
 */
import { expandHits } from '../../src/capture/model';
import { execFileSync } from 'node:child_process';
import { buildFixture } from '../helpers/fixtures';
import { gdbHits } from './gdb-frames';
import { record } from '../../src/record';
import { normalizeName } from '../../src/callpath/names';
import { callPathOf } from '../../src/callpath/normalize';
import { joinCallPath, mergeCallPaths, parseCallPathLine, formatMergedCallPath } from '../../src/callpath/merge';
import { scanCallPath, splitCallPath, stripTemplateArgs } from '../../src/callpath/split';
import { CallPathPattern } from '../../src/callpath/pattern';
import { InvalidCallPathPatternError } from '../../src/errors';

const BUILD = { flags: ['-O2', '-g', '-std=c++20'], libs: ['-lpthread'] };
const binary = () => buildFixture('cpp_templates.cc', BUILD);

function demangled(bin: string, args: string[] = []): string[] {
  const mangled = execFileSync('nm', [bin], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((p) => p.length === 3 && /^[tTwW]$/.test(p[1]) && p[2].startsWith('_Z'))
    .map((p) => p[2]);
  return execFileSync('c++filt', args, { input: mangled.join('\n') + '\n', encoding: 'utf8' }).split('\n').slice(0, mangled.length);
}

describe('splitting printed call paths (real g++ -O2 names)', () => {
  test('every function name of the fixture survives a join and a split, in every normalization', () => {
    const names = demangled(binary());
    const withParams = names.filter((n) => /[<>]/.test(n));
    expect(withParams.length).toBeGreaterThan(10);
    for (const variant of [names, demangled(binary(), ['-p']), names.map((n) => normalizeName(n))]) {
      const frames = ['main', ...variant, 'calc::node_alloc'];
      expect(splitCallPath(joinCallPath(frames))).toEqual(frames);
      for (const name of variant) expect(splitCallPath(`main > ${name} > leaf`)).toEqual(['main', name, 'leaf']);
    }
    expect(names).toEqual(expect.arrayContaining(['calc::Lexer::operator>>(calc::Node*&) [clone .isra.0]', 'calc::operator>(calc::Weight const&, calc::Weight const&)']));
  });

  test('nested `> >`, operators next to separators, and lines read back with their count', () => {
    const stored = '3× main > calc::Stack<std::vector<calc::Node*, std::allocator<calc::Node*> > >::push > calc::operator> > calc::Ptr<calc::Node>::operator-> > calc::Lexer::operator>>';
    expect(parseCallPathLine(stored)).toEqual({
      count: 3,
      path: ['main', 'calc::Stack<std::vector<calc::Node*, std::allocator<calc::Node*> > >::push', 'calc::operator>', 'calc::Ptr<calc::Node>::operator->', 'calc::Lexer::operator>>'],
    });
    expect(splitCallPath('a > calc::operator< <long> > b > operator<=> > operator() > operator>>= > c')).toEqual(['a', 'calc::operator< <long>', 'b', 'operator<=>', 'operator()', 'operator>>=', 'c']);
    expect(splitCallPath('main>top>leaf')).toEqual(['main', 'top', 'leaf']);
    expect(splitCallPath('<F as core::ops::function::FnOnce<fn() -> u32>>::call_once > leaf')).toEqual(['<F as core::ops::function::FnOnce<fn() -> u32>>::call_once', 'leaf']);
    expect(splitCallPath('')).toEqual([]);
    // not a line this package printed: fall back to the plain separator
    expect(scanCallPath('f(x > g').balanced).toBe(false);
    expect(splitCallPath('f(x > g')).toEqual(['f(x', 'g']);
  });
});

describe('template arguments', () => {
  test('default normalization drops them from every real name; instantiations that differ only in arguments merge', () => {
    const normalized = demangled(binary()).map((n) => normalizeName(n));
    for (const name of normalized) expect(name.replace(/operator(<=>|<<=|>>=|<<|>>|<=|>=|<|>|->\*|->)/g, '')).not.toMatch(/[<>]/);
    const makeNode = demangled(binary()).filter((n) => n.includes('make_node<'));
    expect(makeNode).toEqual(
      expect.arrayContaining([
        'calc::Num* calc::make_node<calc::Num, long&>(long&)',
        'calc::Num* calc::make_node<calc::Num, long>(long&&)',
        'calc::BinOp* calc::make_node<calc::BinOp, char&, calc::Node*&, calc::Node*>(char&, calc::Node*&, calc::Node*&&)',
      ]),
    );
    expect(new Set(makeNode.map((n) => normalizeName(n)))).toEqual(new Set(['calc::make_node']));
    expect(normalized).toEqual(
      expect.arrayContaining([
        'calc::Stack::push',
        'calc::operator<',
        'calc::operator>',
        'calc::Ptr::operator->',
        'calc::Lexer::operator>>',
        'calc::Lexer::operator()',
        'calc::Weight::operator<=>',
        'std::thread::_State_impl::_M_run',
      ]),
    );
    const keep = demangled(binary()).map((n) => normalizeName(n, { stripTemplateArgs: false }));
    expect(keep).toEqual(expect.arrayContaining(['calc::make_node<calc::BinOp, char&, calc::Node*&, calc::Node*>', 'calc::operator< <long>']));
  });

  test('stripTemplateArgs keeps operators, lambdas, clone brackets and Rust qualified paths', () => {
    expect(stripTemplateArgs('calc::operator< <long>')).toBe('calc::operator<');
    expect(stripTemplateArgs('std::function<void ()>::operator()')).toBe('std::function::operator()');
    expect(stripTemplateArgs('f::{lambda(std::vector<int>)#1}::operator()')).toBe('f::{lambda(std::vector<int>)#1}::operator()');
    expect(stripTemplateArgs('g<int> [clone .isra.0]')).toBe('g [clone .isra.0]');
    expect(stripTemplateArgs('A::operator std::vector<int, std::allocator<int> >')).toBe('A::operator std::vector');
    expect(stripTemplateArgs('<alloc::vec::Vec<u8> as core::ops::drop::Drop>::drop')).toBe('<alloc::vec::Vec as core::ops::drop::Drop>::drop');
  });
});

describe('patterns with template steps and operator frames', () => {
  test('the issue pattern is five steps; operator steps are one step each', () => {
    const p = new CallPathPattern('main > calc::evaluate > ** > calc::make_node<*> > calc::node_alloc');
    expect(p.tokens.map((t) => t.text)).toEqual(['main', 'calc::evaluate', '**', 'calc::make_node<*>', 'calc::node_alloc']);
    expect(new CallPathPattern('** > calc::operator> > calc::Lexer::operator>> > calc::Ptr<*>::operator->').tokens.map((t) => t.text)).toEqual([
      '**',
      'calc::operator>',
      'calc::Lexer::operator>>',
      'calc::Ptr<*>::operator->',
    ]);
    expect(() => new CallPathPattern('main > leaf > calc::make_node<*')).toThrow(InvalidCallPathPatternError);
    expect(() => new CallPathPattern('main > leaf > calc::make_node<*')).toThrow(/never closed .*calc::make_node<\*>/);
    expect(() => new CallPathPattern('main > > leaf')).toThrow(/empty step/);
  });

  test('a step with arguments checks them when the frame carries them; a step without matches any instantiation', () => {
    const binop = { name: 'calc::make_node', withArgs: 'calc::make_node<calc::BinOp, char&, calc::Node*&, calc::Node*>' };
    const plain = { name: 'calc::node_alloc', withArgs: 'calc::node_alloc' };
    const step = (text: string) => new CallPathPattern(text).tokens[0];
    expect(CallPathPattern.tokenAccepts(step('calc::make_node<*>'), binop)).toBe(true);
    expect(CallPathPattern.tokenAccepts(step('calc::make_node<calc::BinOp, *>'), binop)).toBe(true);
    expect(CallPathPattern.tokenAccepts(step('calc::make_node<calc::Num, *>'), binop)).toBe(false);
    expect(CallPathPattern.tokenAccepts(step('calc::make_node'), binop)).toBe(true);
    expect(CallPathPattern.tokenAccepts(step('calc::node_alloc<*>'), plain)).toBe(false); // not a template
    // printed names: with arguments (stripTemplateArgs: false) they are checked, without they cannot be
    expect(CallPathPattern.tokenAccepts(step('calc::make_node'), binop.withArgs)).toBe(true);
    expect(CallPathPattern.tokenAccepts(step('calc::make_node<calc::Num, *>'), binop.withArgs)).toBe(false);
    expect(CallPathPattern.tokenAccepts(step('calc::make_node<calc::Num, *>'), 'calc::make_node')).toBe(true);
  });
});

describe('real -O2 stacks: our tracer against gdb', () => {
  const hooks = ['calc::node_alloc', 'calc::operator>', 'calc::Lexer::operator>>'];

  test('the same call paths as gdb, with and without template arguments; the issue pattern matches', async () => {
    const bin = binary();
    const oracle = gdbHits([bin, '1+2*3'], hooks);
    const ours = expandHits((await record([bin, '1+2*3'], { hooks, timeout: 60000 })).capture);
    expect(ours.length).toBe(oracle.length);
    for (const normalize of [{}, { stripTemplateArgs: false }]) {
      const expected = mergeCallPaths(oracle, normalize).map((m) => [m.count, joinCallPath(m.path)]).sort();
      const got = mergeCallPaths(ours, normalize).map((m) => [m.count, joinCallPath(m.path)]).sort();
      expect(got).toEqual(expected);
    }
    const printed = mergeCallPaths(ours).map(formatMergedCallPath);
    expect(printed).toEqual(
      expect.arrayContaining([
        '3× main > calc::evaluate > calc::parse > calc::Lexer::operator>> > calc::make_node > calc::node_alloc',
        '2× main > calc::evaluate > calc::parse > calc::make_node > calc::node_alloc',
      ]),
    );
    const pattern = new CallPathPattern('main > calc::evaluate > ** > calc::make_node<*> > calc::node_alloc');
    const read = printed.map((line) => parseCallPathLine(line).path);
    expect(read.filter((p) => pattern.matches(p))).toHaveLength(2);
    const withArgs = mergeCallPaths(ours, { stripTemplateArgs: false }).map((m) => m.path);
    const binOp = new CallPathPattern('** > calc::parse > calc::make_node<calc::BinOp, *> > calc::node_alloc');
    expect(withArgs.filter((p) => binOp.matches(p))).toHaveLength(1);
    expect(callPathOf(ours.find((h) => h.hook === 'calc::operator>')!.frames)).toEqual(expect.arrayContaining(['calc::BinOp::eval', 'calc::operator>']));
  });
});
