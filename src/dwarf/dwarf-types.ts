/**
 * DWARF types as the value decoder needs them: typedefs and cv-qualifiers looked through, sizes,
 * base-type encodings, struct/union members at their offsets, array bounds, enumerators.
 * Pointer and member types are resolved lazily, so recursive types (a list node pointing to
 * itself) cost one object per DIE.
 */
import type { Die, DieReader } from './die-reader';

export const DW_ATE = {
  address: 0x1,
  boolean: 0x2,
  complex_float: 0x3,
  float: 0x4,
  signed: 0x5,
  signed_char: 0x6,
  unsigned: 0x7,
  unsigned_char: 0x8,
  UTF: 0x10,
} as const;

const TAG = {
  array_type: 0x01,
  class_type: 0x02,
  enumeration_type: 0x04,
  member: 0x0d,
  pointer_type: 0x0f,
  reference_type: 0x10,
  subroutine_type: 0x15,
  typedef: 0x16,
  union_type: 0x17,
  inheritance: 0x1c,
  ptr_to_member_type: 0x1f,
  subrange_type: 0x21,
  base_type: 0x24,
  const_type: 0x26,
  enumerator: 0x28,
  volatile_type: 0x35,
  restrict_type: 0x37,
  unspecified_type: 0x3b,
  rvalue_reference_type: 0x42,
  atomic_type: 0x47,
  structure_type: 0x13,
  variant_part: 0x33,
} as const;

export const AT = {
  location: 0x02,
  name: 0x03,
  byte_size: 0x0b,
  bit_offset: 0x0c,
  bit_size: 0x0d,
  const_value: 0x1c,
  lower_bound: 0x22,
  upper_bound: 0x2f,
  abstract_origin: 0x31,
  artificial: 0x34,
  calling_convention: 0x36,
  count: 0x37,
  data_member_location: 0x38,
  declaration: 0x3c,
  encoding: 0x3e,
  external: 0x3f,
  frame_base: 0x40,
  specification: 0x47,
  type: 0x49,
  data_bit_offset: 0x6b,
  loclists_base: 0x8c,
  defaulted: 0x8b,
} as const;

export type DwarfType =
  | { kind: 'void'; name: string }
  | { kind: 'base'; name: string; size: number; encoding: number }
  | { kind: 'enum'; name: string; size: number; signed: boolean }
  | { kind: 'pointer'; name: string; size: number; target: () => DwarfType }
  | { kind: 'reference'; name: string; size: number; target: () => DwarfType }
  | { kind: 'struct'; name: string; size: number; union: boolean; members: () => Member[]; passByReference: boolean }
  | { kind: 'array'; name: string; size: number; element: () => DwarfType; count: number | null }
  | { kind: 'function'; name: string; size: number }
  | { kind: 'unsupported'; name: string; size: number };

export interface Member {
  name: string;
  offset: number;
  type: DwarfType;
  /** Bit fields: width and offset (from the member's byte offset) in bits. */
  bitSize: number | null;
  bitOffset: number;
}

const VOID: DwarfType = { kind: 'void', name: 'void' };
const TAG_subprogram = 0x2e;
const TAG_formal_parameter = 0x05;
const TAG_template_type_param = 0x2f;
const TAG_template_value_param = 0x30;
const DW_DEFAULTED_in_class = 1;
const DW_CC_pass_by_reference = 4;

export class TypeReader {
  private readonly cache = new Map<number, DwarfType>();

  constructor(private readonly dies: DieReader) {}

  /** The type a DIE's DW_AT_type names (void when absent). */
  typeOf(die: Die): DwarfType {
    const t = die.attrs.get(AT.type);
    return t && t.ref >= 0 ? this.type(t.ref) : VOID;
  }

  type(offset: number): DwarfType {
    const cached = this.cache.get(offset);
    if (cached) return cached;
    const die = this.dies.die(offset);
    const t: DwarfType = die ? this.build(die) : { kind: 'unsupported', name: '?', size: 0 };
    this.cache.set(offset, t);
    return t;
  }

  private build(die: Die): DwarfType {
    const name = die.attrs.get(AT.name)?.str ?? null;
    const size = die.attrs.get(AT.byte_size)?.num ?? NaN;
    switch (die.tag) {
      case TAG.base_type:
        return { kind: 'base', name: name ?? '?', size, encoding: die.attrs.get(AT.encoding)?.num ?? 0 };
      case TAG.typedef:
      case TAG.const_type:
      case TAG.volatile_type:
      case TAG.restrict_type:
      case TAG.atomic_type: {
        return this.typeOf(die);
      }
      case TAG.unspecified_type:
        return { kind: 'pointer', name: name ?? 'nullptr_t', size: 8, target: () => VOID };
      case TAG.pointer_type:
      case TAG.ptr_to_member_type: {
        const target = this.lazy(die);
        return { kind: 'pointer', name: name ?? 'pointer', size: Number.isNaN(size) ? 8 : size, target };
      }
      case TAG.reference_type:
      case TAG.rvalue_reference_type:
        return { kind: 'reference', name: name ?? 'reference', size: 8, target: this.lazy(die) };
      case TAG.enumeration_type: {
        const under = this.typeOf(die);
        const signed = under.kind === 'base' ? under.encoding === DW_ATE.signed || under.encoding === DW_ATE.signed_char : this.dies.children(die).some((e) => (e.attrs.get(AT.const_value)?.signed ?? 0) < 0);
        return { kind: 'enum', name: name ?? 'enum', size: Number.isNaN(size) ? 4 : size, signed };
      }
      case TAG.structure_type:
      case TAG.class_type:
      case TAG.union_type: {
        if (die.attrs.has(AT.declaration)) return { kind: 'unsupported', name: name ?? 'struct', size: 0 };
        const children = this.dies.children(die);
        if (children.some((c) => c.tag === TAG.variant_part)) return { kind: 'unsupported', name: name ?? 'enum', size };
        let members: Member[] | null = null;
        const cc = die.attrs.get(AT.calling_convention)?.num;
        const passByReference = cc !== undefined ? cc === DW_CC_pass_by_reference : this.nonTrivialForCalls(die, children);
        return {
          kind: 'struct',
          name: name ?? '',
          size,
          union: die.tag === TAG.union_type,
          passByReference,
          members: () => (members ??= this.members(children)),
        };
      }
      case TAG.array_type: {
        const element = this.lazy(die);
        const dims = this.dies.children(die).filter((c) => c.tag === TAG.subrange_type);
        let count: number | null = null;
        if (dims.length > 0) {
          const d = dims[0];
          const c = d.attrs.get(AT.count);
          const ub = d.attrs.get(AT.upper_bound);
          const lb = d.attrs.get(AT.lower_bound)?.num ?? 0;
          if (c && !Number.isNaN(c.num) && c.block === null) count = c.num;
          else if (ub && !Number.isNaN(ub.num) && ub.block === null) count = ub.signed - lb + 1;
        }
        // multi-dimensional arrays: an array of arrays of the remaining dimensions
        const elementType = dims.length > 1 ? this.innerArray(die, dims.slice(1), element) : element;
        const elemSize = () => sizeOf(elementType());
        return { kind: 'array', name: name ?? 'array', size: count === null ? NaN : count * elemSize(), element: elementType, count };
      }
      case TAG.subroutine_type:
        return { kind: 'function', name: name ?? 'function', size: 1 };
      default:
        return { kind: 'unsupported', name: name ?? `tag 0x${die.tag.toString(16)}`, size };
    }
  }

  /**
   * Itanium C++ ABI: a class with a user-provided copy or move constructor or destructor, or a base
   * or member of such a class, is passed and returned through memory (GCC does not say so with
   * DW_AT_calling_convention, clang does). A class template instance's DW_AT_name carries its
   * arguments (`basic_string<char, ...>`) where its constructors and destructor do not
   * (`~basic_string`): the names are compared without them.
   */
  private nonTrivialForCalls(die: Die, children: Die[], depth = 0): boolean {
    if (depth > 8) return false;
    const name = withoutTemplateArgs(die.attrs.get(AT.name)?.str ?? null);
    for (const c of children) {
      if (c.tag === TAG_subprogram && name !== null && !c.attrs.has(AT.artificial) && c.attrs.get(AT.defaulted)?.num !== DW_DEFAULTED_in_class) {
        const fname = withoutTemplateArgs(c.attrs.get(AT.name)?.str ?? '') ?? '';
        if (fname === '~' + name) return true;
        if (fname === name) {
          const cc = this.dies.children(c);
          const params = cc.filter((p) => p.tag === TAG_formal_parameter);
          // a constructor template is never a copy or move constructor, whatever it is instantiated with
          const template = cc.some((p) => p.tag === TAG_template_type_param || p.tag === TAG_template_value_param);
          if (!template && params.length === 2 && this.refersTo(params[1], die.offset)) return true;
        }
      }
      if (c.tag === TAG.member || c.tag === TAG.inheritance) {
        if (c.attrs.has(AT.declaration) || c.attrs.has(AT.external)) continue;
        const t = c.attrs.get(AT.type);
        const td = t && t.ref >= 0 ? this.stripCv(t.ref) : null;
        if (td && (td.tag === TAG.structure_type || td.tag === TAG.class_type || td.tag === TAG.union_type) && !td.attrs.has(AT.declaration)) {
          if (td.attrs.get(AT.calling_convention)?.num === DW_CC_pass_by_reference) return true;
          if (this.nonTrivialForCalls(td, this.dies.children(td), depth + 1)) return true;
        }
      }
    }
    return false;
  }

  /** True when the parameter's type is a reference to (cv-qualified) the class at `classOffset`. */
  private refersTo(param: Die, classOffset: number): boolean {
    const t = param.attrs.get(AT.type);
    const ref = t && t.ref >= 0 ? this.dies.die(t.ref) : null;
    if (!ref || (ref.tag !== TAG.reference_type && ref.tag !== TAG.rvalue_reference_type)) return false;
    const target = ref.attrs.get(AT.type);
    const d = target && target.ref >= 0 ? this.stripCv(target.ref) : null;
    return d !== null && d.offset === classOffset;
  }

  private stripCv(offset: number): Die | null {
    let d = this.dies.die(offset);
    for (let hops = 0; d && hops < 8 && (d.tag === TAG.const_type || d.tag === TAG.volatile_type || d.tag === TAG.typedef); hops++) {
      const t = d.attrs.get(AT.type);
      d = t && t.ref >= 0 ? this.dies.die(t.ref) : null;
    }
    return d;
  }

  private innerArray(die: Die, dims: Die[], element: () => DwarfType): () => DwarfType {
    let t: DwarfType | null = null;
    return () => {
      if (t) return t;
      const d = dims[0];
      const c = d.attrs.get(AT.count);
      const ub = d.attrs.get(AT.upper_bound);
      const lb = d.attrs.get(AT.lower_bound)?.num ?? 0;
      const count = c && c.block === null ? c.num : ub && ub.block === null ? ub.signed - lb + 1 : null;
      const inner = dims.length > 1 ? this.innerArray(die, dims.slice(1), element) : element;
      t = { kind: 'array', name: 'array', size: count === null ? NaN : count * sizeOf(inner()), element: inner, count };
      return t;
    };
  }

  private lazy(die: Die): () => DwarfType {
    let t: DwarfType | null = null;
    return () => (t ??= this.typeOf(die));
  }

  private members(children: Die[]): Member[] {
    const out: Member[] = [];
    for (const c of children) {
      if (c.tag !== TAG.member && c.tag !== TAG.inheritance) continue;
      if (c.attrs.has(AT.declaration) || (c.attrs.has(AT.external) && !c.attrs.has(AT.data_member_location))) continue; // static members
      const loc = c.attrs.get(AT.data_member_location);
      let offset = 0;
      if (loc) {
        if (loc.block) {
          // DWARF 2 style: DW_OP_plus_uconst N
          offset = loc.block[0] === 0x23 ? uleb(loc.block, 1) : 0;
        } else offset = loc.num;
      }
      const bitSize = c.attrs.get(AT.bit_size)?.num ?? null;
      let bitOffset = 0;
      const dbo = c.attrs.get(AT.data_bit_offset);
      const type = this.typeOf(c);
      if (dbo) {
        offset = Math.floor(dbo.num / 8);
        bitOffset = dbo.num % 8;
      } else if (bitSize !== null && c.attrs.has(AT.bit_offset)) {
        // DWARF 2-3: bit offset from the most significant bit of the storage unit
        const storage = c.attrs.get(AT.byte_size)?.num ?? sizeOf(type);
        bitOffset = storage * 8 - c.attrs.get(AT.bit_offset)!.num - bitSize;
      }
      const name = c.tag === TAG.inheritance ? `<${type.name}>` : c.attrs.get(AT.name)?.str ?? '';
      out.push({ name, offset, type, bitSize, bitOffset });
    }
    return out;
  }
}

/** `basic_string<char, std::char_traits<char> >` -> `basic_string` (and `~basic_string<char>` for a destructor some compilers name so). */
function withoutTemplateArgs(name: string | null): string | null {
  if (name === null) return null;
  const lt = name.indexOf('<');
  return lt > 0 ? name.slice(0, lt) : name;
}

export function sizeOf(t: DwarfType): number {
  return t.kind === 'void' ? 0 : t.size;
}

function uleb(buf: Buffer, pos: number): number {
  let result = 0;
  let scale = 1;
  for (;;) {
    const b = buf[pos++];
    result += (b & 0x7f) * scale;
    scale *= 128;
    if (!(b & 0x80)) return result;
  }
}
