/**
 * gdb as the oracle for parameters and return values: at every `break F` stop, the arguments of
 * the frame's block (`symbol.is_argument`, `symbol.value(frame)`), and for each such call a
 * `gdb.FinishBreakpoint` whose `return_value` (or `out_of_scope`) says how it ended. Values are
 * converted in gdb's Python to the same JSON shapes as jest-ustack's ArgValue; a class that one of
 * gdb's pretty printers (libstdc++'s) shows is converted from what that printer gives.
 */
import { runGdbScript } from './gdb';

export interface GdbCall {
  func: string;
  args: Record<string, unknown>;
  /** undefined: gdb could not set a finish breakpoint; null: out of scope (never returned). */
  returned?: { value: unknown } | null;
  tid: number;
}

const PYTHON = String.raw`
import gdb, json, math
MAX_STRING = 200
MAX_ELEMENTS = 64
SAFE = 2**53 - 1

def is_char(t):
    t = t.strip_typedefs()
    return t.sizeof == 1 and t.code in (gdb.TYPE_CODE_INT, gdb.TYPE_CODE_CHAR) and (t.name or '') in ('char', 'signed char', 'unsigned char')

def flt(x):
    if math.isnan(x): return 'nan'
    if math.isinf(x): return 'inf' if x > 0 else '-inf'
    return x

def text(ptr, length=None):
    inf = gdb.selected_inferior()
    data = b''
    if length is None:
        while len(data) <= MAX_STRING:
            chunk = bytes(inf.read_memory(ptr + len(data), 1))
            if chunk == b'\0': break
            data += chunk
    else:
        data = bytes(inf.read_memory(ptr, min(length, MAX_STRING))) if length else b''
    out = {'ptr': hex(ptr), 'string': data[:MAX_STRING].decode('utf-8' if length is not None else 'latin-1')}
    if len(data) > MAX_STRING or (length is not None and length > MAX_STRING): out['truncated'] = True
    return out

def printed(v, vis, depth):
    # a value gdb's pretty printers (libstdc++'s printers.py) show: strings as text, others as summary and children
    hint = vis.display_hint() if hasattr(vis, 'display_hint') else None
    s = vis.to_string()
    if hint == 'string':
        if hasattr(s, 'address') and hasattr(s, 'length'):  # a gdb.LazyString
            n = s.length
            data = bytes(gdb.selected_inferior().read_memory(s.address, min(n, MAX_STRING))) if n > 0 else b''
        else:
            data = str(s).encode('latin-1')
            n = len(data)
        out = {'string': data[:MAX_STRING].decode('latin-1')}
        if n > MAX_STRING: out['truncated'] = True
        return out
    out = {'summary': str(s) if s is not None else ''}
    if hasattr(vis, 'children'):
        kids = []
        for i, (name, child) in enumerate(vis.children()):
            if i == MAX_ELEMENTS and hint == 'array':
                kids.append((None, '...'))
                break
            kids.append((name, conv(child, depth + 1) if isinstance(child, gdb.Value) else child))
        if kids:
            out['children'] = [c for _, c in kids] if hint == 'array' else {n: c for n, c in kids}
    return out

def conv(v, depth=0):
    if v.is_optimized_out: return '<optimized out>'
    vis = gdb.default_visualizer(v) if v.type.strip_typedefs().code in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION) else None
    if vis is not None:
        if depth >= 4: return '{...}'
        return printed(v, vis, depth)
    t = v.type.strip_typedefs()
    c = t.code
    if c in (gdb.TYPE_CODE_INT, gdb.TYPE_CODE_ENUM, gdb.TYPE_CODE_CHAR):
        # gdb 13 cannot int() integers wider than 8 bytes, but prints them
        i = int(str(v)) if t.sizeof > 8 else int(v)
        return i if abs(i) <= SAFE else str(i)
    if c == gdb.TYPE_CODE_BOOL: return bool(int(v))
    if c == gdb.TYPE_CODE_FLT: return flt(float(v))
    if c == gdb.TYPE_CODE_PTR:
        p = int(v)
        if p and is_char(t.target()): return text(p)
        return hex(p)
    if c in (gdb.TYPE_CODE_REF, gdb.TYPE_CODE_RVALUE_REF):
        return conv(v.referenced_value(), depth + 1)
    if c in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION):
        if depth >= 4: return '{...}'
        if t.name in ('&str', '&mut str'):
            return text(int(v['data_ptr']), int(v['length']))
        out = {}
        for f in t.fields():
            if not hasattr(f, 'bitpos'): continue  # static member
            name = '<' + str(f.type) + '>' if f.is_base_class else f.name
            out[name] = conv(v[f], depth + 1)
        return out
    if c == gdb.TYPE_CODE_ARRAY:
        lo, hi = t.range()
        if is_char(t.target()):
            return ''.join(chr(int(v[i]) & 0xff) for i in range(lo, hi + 1)).split('\0')[0][:MAX_STRING]
        if depth >= 4: return '{...}'
        items = [conv(v[i], depth + 1) for i in range(lo, min(hi + 1, lo + MAX_ELEMENTS))]
        if hi - lo + 1 > MAX_ELEMENTS: items.append('...')
        return items
    return '<unsupported type %s>' % t

calls = []

class Finish(gdb.FinishBreakpoint):
    def __init__(self, frame, call):
        super().__init__(frame, internal=True)
        self.call = call
    def stop(self):
        rv = self.return_value
        self.call['returned'] = {'value': None if rv is None else conv(rv)}
        return False
    def out_of_scope(self):
        self.call['returned'] = None

def on_stop():
    frame = gdb.selected_frame()
    block = frame.block()
    while block.function is None and block.superblock is not None and not block.is_global:
        block = block.superblock
    args = {}
    for sym in block:
        if sym.is_argument:
            try:
                args[sym.name] = conv(sym.value(frame))
            except gdb.error as e:
                args[sym.name] = '<error: %s>' % e
    name = frame.name()
    call = {'func': name, 'args': args, 'tid': gdb.selected_thread().ptid[1]}
    calls.append(call)
    if WANT_RETURNS and frame.type() != gdb.INLINE_FRAME:
        try:
            Finish(frame, call)
        except Exception:
            pass

gdb.execute('run')
while gdb.selected_inferior().pid and gdb.selected_thread() is not None:
    try:
        frame = gdb.selected_frame()
    except gdb.error:
        break
    if frame.name() in TARGETS or (frame.function() and frame.function().name in TARGETS):
        on_stop()
    try:
        gdb.execute('continue')
    except gdb.error:
        break
print('@@CALLS ' + json.dumps(calls))
`;

/** Runs `argv` under gdb with `break F` on each function and returns every stop's arguments (and return, with `returns`). */
export function gdbCalls(argv: string[], functions: string[], options: { returns?: boolean; cwd?: string } = {}): GdbCall[] {
  const script = [
    'set pagination off',
    'set confirm off',
    'set breakpoint pending on',
    'set width 0',
    // gdb adds LINES and COLUMNS to the program's environment: without them its stack addresses are the same as without gdb
    'unset environment LINES',
    'unset environment COLUMNS',
    ...functions.map((f) => `break ${f}`),
    'python',
    `TARGETS = set(${JSON.stringify(functions)})`,
    `WANT_RETURNS = ${options.returns ? 'True' : 'False'}`,
    PYTHON,
    'end',
  ];
  const out = runGdbScript(argv, script, { cwd: options.cwd, timeoutMs: 180000 });
  const line = out.split('\n').find((l) => l.startsWith('@@CALLS '));
  if (!line) throw new Error(`gdb printed no calls:\n${out.slice(-3000)}`);
  return JSON.parse(line.slice('@@CALLS '.length)) as GdbCall[];
}
