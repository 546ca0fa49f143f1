// C++ names at -O2: a template step and operator frames in patterns, a call-path snapshot.
const { trace } = require('jest-ustack');

test('every node comes from node_alloc through a make_node<...> instantiation', async () => {
  const run = await trace(['./build/calc', '1+2*3'], { hooks: ['calc::node_alloc', 'calc::Lexer::operator>>'] });
  expect(run).toExitWith(0);
  expect(run.stdout).toBe('9\n');
  expect(run).toHaveCallPath('main > calc::evaluate > ** > calc::make_node<*> > calc::node_alloc');
  expect(run).toHaveCallPath('main > calc::evaluate > calc::parse > calc::Lexer::operator>> > calc::make_node<calc::Num, *> > calc::node_alloc');
  expect(run).toHaveCallPath('** > calc::parse > calc::make_node<calc::BinOp, *> > calc::node_alloc');
  expect(run).toHaveHit('calc::Lexer::operator>>', { times: 3 });
  expect(run.callPaths('calc::node_alloc')).toMatchSnapshot();
});

test('operator frames: operator> under the virtual eval, operator-> in evaluate', async () => {
  const run = await trace(['./build/calc', '1+2*3'], { hooks: ['calc::operator>', 'calc::Ptr<calc::Node>::operator->'] });
  expect(run).toHaveCallPath('main > calc::BinOp::eval > calc::BinOp::eval > calc::operator>');
  expect(run).toHaveCallPath('main > calc::evaluate > calc::Ptr<*>::operator->');
  expect(run).not.toHaveCallPath('** > calc::operator> > ** > calc::node_alloc');
  expect(run.callPaths()).toMatchSnapshot();
});
