/**
 * libstdc++ types shown as gdb's pretty printers (libstdc++'s printers.py) show them, not as their
 * raw members: `std::string`/`std::string_view` as text, `std::vector` as `std::vector of length 3,
 * capacity 4 = {1, 2, 3}`, `std::unique_ptr<int> = {get() = 0x...}`, `std::shared_ptr<T> (use
 * count 1, weak count 0) = {get() = 0x...}`, `std::optional<int> = {[contained value] = 3}`.
 * The layout is read from DWARF by member name (`_M_dataplus._M_p`, `_M_impl._M_start`, ...),
 * looking through base classes; a type whose members are not the expected ones keeps its raw form.
 */
import type { ArgValue, PrintedValue, TextValue } from '../capture/types';
import { isPrinted } from '../capture/value-format';
import { sizeOf, type DwarfType, type Member } from './dwarf-types';
import { memoryError, type ValueSource } from './location';

/** Decodes a value of a type (the value decoder, for elements and contained values). */
export type Decode = (t: DwarfType, bytes: Buffer | string, depth: number) => ArgValue;

const MAX_TEXT = 200; // gdb's `print elements`
const MAX_ELEMENTS = 64; // as for arrays

type StructType = Extract<DwarfType, { kind: 'struct' }>;

/** gdb's printer of a libstdc++ class, or undefined when `t` is not one (or not laid out as expected). */
export function printStd(t: StructType, bytes: Buffer, src: ValueSource, decode: Decode, depth: number): ArgValue | undefined {
  const lt = t.name.indexOf('<');
  if (lt < 0) return undefined;
  switch (t.name.slice(0, lt)) {
    case 'basic_string':
      return text(field(t, bytes, '_M_dataplus', '_M_p'), field(t, bytes, '_M_string_length'), src);
    case 'basic_string_view':
      return text(field(t, bytes, '_M_str'), field(t, bytes, '_M_len'), src);
    case 'vector':
      return vector(t, bytes, src, decode, depth);
    case 'unique_ptr':
      return uniquePtr(t, bytes, decode, depth);
    case 'shared_ptr':
    case 'weak_ptr':
      return sharedPtr(t, bytes, src, decode, depth);
    case 'optional':
      return optional(t, bytes, decode, depth);
    default:
      return undefined;
  }
}

interface Found {
  offset: number;
  type: DwarfType;
}

/** A member by name, in the type or (depth first) its base classes, at its offset from the start of `t`. */
function member(t: DwarfType, name: string, depth = 0): Found | null {
  if (t.kind !== 'struct' || depth > 8) return null;
  const members: Member[] = t.members();
  const direct = members.find((m) => m.name === name);
  if (direct) return { offset: direct.offset, type: direct.type };
  for (const m of members) {
    if (!m.name.startsWith('<')) continue;
    const inBase = member(m.type, name, depth + 1);
    if (inBase) return { offset: m.offset + inBase.offset, type: inBase.type };
  }
  return null;
}

/** A base class whose name starts with `prefix` (without the angle brackets members of bases have in Member.name). */
function base(t: DwarfType, prefix: string): Found | null {
  if (t.kind !== 'struct') return null;
  const m = t.members().find((x) => x.name.startsWith('<' + prefix));
  return m ? { offset: m.offset, type: m.type } : null;
}

/** The member at `path` (each step looked up through base classes) with its bytes, or null. */
function field(t: DwarfType, bytes: Buffer, ...path: string[]): { type: DwarfType; bytes: Buffer } | null {
  let at: Found = { offset: 0, type: t };
  for (const name of path) {
    const next = member(at.type, name);
    if (!next) return null;
    at = { offset: at.offset + next.offset, type: next.type };
  }
  const size = sizeOf(at.type);
  if (!(size > 0) || at.offset + size > bytes.length) return null;
  return { type: at.type, bytes: bytes.subarray(at.offset, at.offset + size) };
}

function unsigned(f: { type: DwarfType; bytes: Buffer } | null): number | null {
  if (!f || (f.type.kind !== 'base' && f.type.kind !== 'pointer') || f.bytes.length > 8) return null;
  let v = 0n;
  for (let i = f.bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(f.bytes[i]);
  return Number(v);
}

function signedInt(f: { type: DwarfType; bytes: Buffer } | null): number | null {
  if (!f || f.type.kind !== 'base' || f.bytes.length > 8) return null;
  let v = 0n;
  for (let i = f.bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(f.bytes[i]);
  return Number(BigInt.asIntN(f.bytes.length * 8, v));
}

/** The character data of a string or string_view of `char` (other character types keep the raw form). */
function text(ptr: { type: DwarfType; bytes: Buffer } | null, len: { type: DwarfType; bytes: Buffer } | null, src: ValueSource): ArgValue | undefined {
  if (!ptr || ptr.type.kind !== 'pointer' || sizeOf(ptr.type.target()) !== 1) return undefined;
  const p = unsigned(ptr);
  const n = unsigned(len);
  if (p === null || n === null) return undefined;
  const shown = Math.min(n, MAX_TEXT);
  const data = shown === 0 ? Buffer.alloc(0) : src.read(p, shown);
  if (!data) return memoryError(p);
  const v: TextValue = { string: data.toString('latin1') };
  if (n > shown) v.truncated = true;
  return v;
}

function vector(t: StructType, bytes: Buffer, src: ValueSource, decode: Decode, depth: number): ArgValue | undefined {
  const start = field(t, bytes, '_M_impl', '_M_start');
  const finish = field(t, bytes, '_M_impl', '_M_finish');
  const end = field(t, bytes, '_M_impl', '_M_end_of_storage');
  // vector<bool> keeps bit iterators there: left raw
  if (!start || start.type.kind !== 'pointer' || !finish || !end) return undefined;
  const element = start.type.target();
  const es = sizeOf(element);
  const [s, f, e] = [unsigned(start), unsigned(finish), unsigned(end)];
  if (!(es > 0) || s === null || f === null || e === null) return undefined;
  const length = Math.floor((f - s) / es);
  const capacity = Math.floor((e - s) / es);
  const out: PrintedValue = { summary: `std::vector of length ${length}, capacity ${capacity}` };
  if (length <= 0) return out;
  const shown = Math.min(length, MAX_ELEMENTS);
  const data = src.read(s, shown * es);
  if (!data) return { ...out, children: [memoryError(s)] };
  const children: ArgValue[] = [];
  for (let i = 0; i < shown; i++) children.push(decode(element, data.subarray(i * es, (i + 1) * es), depth + 1));
  if (length > shown) children.push('...');
  out.children = children;
  return out;
}

/** std::get<0> of the std::tuple that holds a unique_ptr's pointer (libstdc++'s _Tuple_impl/_Head_base). */
function uniquePtr(t: StructType, bytes: Buffer, decode: Decode, depth: number): ArgValue | undefined {
  const tuple = field(t, bytes, '_M_t', '_M_t') ?? field(t, bytes, '_M_t');
  if (!tuple || tuple.type.kind !== 'struct') return undefined;
  const impl0 = base(tuple.type, '_Tuple_impl<0');
  const head0 = impl0 ? base(impl0.type, '_Head_base<0') : null;
  if (!impl0 || !head0) return undefined;
  const at = impl0.offset + head0.offset;
  const ptr = field(head0.type, tuple.bytes.subarray(at), '_M_head_impl');
  if (!ptr) return undefined;
  return { summary: `std::unique_ptr<${firstTemplateArg(t.name)}>`, children: { 'get()': decode(ptr.type, ptr.bytes, depth + 1) } };
}

function sharedPtr(t: StructType, bytes: Buffer, src: ValueSource, decode: Decode, depth: number): ArgValue | undefined {
  const ptr = field(t, bytes, '_M_ptr');
  const pi = field(t, bytes, '_M_refcount', '_M_pi');
  if (!ptr || !pi || pi.type.kind !== 'pointer') return undefined;
  const kind = t.name.startsWith('weak_ptr') ? 'std::weak_ptr' : 'std::shared_ptr';
  const counts = unsigned(pi);
  let state = 'empty';
  if (counts) {
    const counted = pi.type.target();
    const raw = src.read(counts, sizeOf(counted));
    const use = raw ? signedInt(field(counted, raw, '_M_use_count')) : null;
    const weak = raw ? signedInt(field(counted, raw, '_M_weak_count')) : null;
    if (use === null || weak === null) state = memoryError(counts);
    else state = use === 0 ? `expired, weak count ${weak}` : `use count ${use}, weak count ${weak - 1}`;
  }
  return { summary: `${kind}<${firstTemplateArg(t.name)}> (${state})`, children: { 'get()': decode(ptr.type, ptr.bytes, depth + 1) } };
}

function optional(t: StructType, bytes: Buffer, decode: Decode, depth: number): ArgValue | undefined {
  const payload = member(t, '_M_payload');
  if (!payload) return undefined;
  const engaged = field(t, bytes, '_M_payload', '_M_engaged');
  const value = field(t, bytes, '_M_payload', '_M_payload', '_M_value') ?? field(t, bytes, '_M_payload', '_M_payload');
  if (!engaged || !value) return undefined;
  const name = `std::optional<${recognize(firstTemplateArg(t.name))}>`;
  if (!engaged.bytes.some((b) => b !== 0)) return { summary: `${name} [no contained value]` };
  const inner = decode(value.type, value.bytes, depth + 1);
  // a contained value with children of its own shows them (printers.py's SingleObjContainerPrinter)
  if (isPrinted(inner) && inner.children) return { summary: `${name} containing ${inner.summary}`, children: inner.children };
  return { summary: name, children: { '[contained value]': inner } };
}

/** `unique_ptr<std::pair<int, int>, std::default_delete<...> >` -> `std::pair<int, int>`. */
export function firstTemplateArg(name: string): string {
  const open = name.indexOf('<');
  if (open < 0) return '';
  let level = 0;
  for (let i = open + 1; i < name.length; i++) {
    const c = name[i];
    if (c === '<' || c === '(') level++;
    else if (c === '>' || c === ')') {
      if (level === 0) return name.slice(open + 1, i).trim();
      level--;
    } else if (c === ',' && level === 0) return name.slice(open + 1, i).trim();
  }
  return name.slice(open + 1).trim();
}

const STRING_TYPES: Record<string, string> = { char: 'std::string', wchar_t: 'std::wstring', char8_t: 'std::u8string', char16_t: 'std::u16string', char32_t: 'std::u32string' };

/** libstdc++'s type printers as printers.py applies them to an optional's type: the std::string family by its typedef. */
function recognize(type: string): string {
  const m = /^std::(?:__cxx11::)?basic_string<(\w+), std::char_traits<\1>, std::allocator<\1> >$/.exec(type);
  return m && STRING_TYPES[m[1]] ? STRING_TYPES[m[1]] : type;
}
