/**
 * Real Jest on a C++ -O2 project (test/e2e/projects/cpp_patterns, binary from
 * test/fixtures/cpp_templates.cc): template steps and operator frames in patterns, a thread crash
 * whose raw values snapshot stably (written, then verified by a second run with --ci), call-path
 * snapshots one frame per line, and a capture warning in a failure message.
 */
import { JestProject } from './jest-project';

const BINARIES = { calc: ['cpp_templates.cc', { flags: ['-O2', '-g', '-std=c++20'] }] } as ConstructorParameters<typeof JestProject>[1];
const PASSING = ['--testPathIgnorePatterns', '/failing/'];

describe('a C++ project with templates and operators', () => {
  let project: JestProject;
  beforeAll(() => {
    project = new JestProject('cpp_patterns', BINARIES);
  });
  afterAll(() => project.remove());

  test('template-step patterns and operator frames pass; snapshots are written without addresses, ids or absolute paths', () => {
    const first = project.run(PASSING);
    expect(first.output).toMatch(/Tests:\s+3 passed, 3 total/);
    expect(first.output).toMatch(/Snapshots:\s+8 written, 8 total/);
    expect(first.status).toBe(0);
    const crash = project.read('__tests__/__snapshots__/crash.test.js.snap');
    expect(crash).toMatch(/UstackCrash \{\n  "faultAddress": "<address>",\n  "signal": "SIGSEGV",\n  "stack": \[\n    "calc::Ptr::operator-> \(cpp_templates\.cc:\d+\)",\n    "calc::crash_on_thread \(cpp_templates\.cc:\d+\)",/);
    expect(crash).toMatch(/UstackFrame "calc::Ptr::operator-> \(cpp_templates\.cc:\d+\)"/);
    expect(crash).toContain('UstackCapture {');
    expect(crash).not.toMatch(/0x[0-9a-f]|\/tmp\/|"(pid|tid|pc|seq)"|durationMs/);
    const paths = project.read('__tests__/__snapshots__/patterns.test.js.snap');
    expect(paths).toContain(
      'UstackCallPaths [\n  3× main\n    > calc::evaluate\n    > calc::parse\n    > calc::Lexer::operator>>\n    > calc::make_node\n    > calc::node_alloc\n',
    );
    expect(paths).toContain('  1× main\n    > calc::BinOp::eval\n    > calc::BinOp::eval\n    > calc::operator>\n');
  });

  test('a second run with --ci (new pids, tids and addresses) passes against them', () => {
    const again = project.run(['--ci', ...PASSING]);
    expect(again.output).toMatch(/Snapshots:\s+8 passed, 8 total/);
    expect(again.status).toBe(0);
  });

  test('one frame more in a call path shows as one line of the snapshot diff', () => {
    const file = '__tests__/__snapshots__/patterns.test.js.snap';
    const text = project.read(file);
    project.write(file, text.replace('    > calc::parse\n    > calc::make_node\n', '    > calc::parse\n    > calc::Parser::binary\n    > calc::make_node\n'));
    const changed = project.run(['--ci', ...PASSING]);
    expect(changed.status).toBe(1);
    expect(changed.output).toMatch(/- Snapshot\s+- 1\n\s*\+ Received\s+\+ 0/);
    expect(changed.output).toMatch(/\n\s*-\s+> calc::Parser::binary\n/);
    project.write(file, text);
  });

  test('a failing toHaveHit explains its 0 hits with the capture warning', () => {
    const r = project.run(['--ci', 'failing']);
    expect(r.status).toBe(1);
    expect(r.output).toContain('expect(run).toHaveHit(hook)');
    expect(r.output).toContain('Received: 0 hits');
    expect(r.output).toContain('Warnings from the trace:');
    expect(r.output).toContain('- Hook "malloc@libfoo.so": module libfoo.so was never loaded, so the hook never fired.');
  });
});
