/**
 * Where the x86-64 System V calling convention puts parameters at a function's first instruction
 * and its return value right after `ret` (psABI section 3.2.3): each eightbyte of a value of at
 * most 16 bytes is INTEGER (rdi, rsi, rdx, rcx, r8, r9 / rax, rdx) or SSE (xmm0-7 / xmm0, xmm1);
 * bigger or unaligned values go in memory (on the stack; returned through the pointer in rax);
 * C++ classes that are not trivially copyable go by reference.
 */
import { DW_ATE, sizeOf, type DwarfType } from './dwarf-types';

/** DWARF register numbers: rax 0, rdx 1, rcx 2, rsi 4, rdi 5, r8 8, r9 9; xmm0 is 17. */
const INT_ARG_REGS = [5, 4, 1, 2, 8, 9];
const INT_RET_REGS = [0, 1];
export const XMM0 = 17;
export const ST0 = 33;

export type EightbyteClass = 'INTEGER' | 'SSE';
/** 'MEMORY': in memory; 'REFERENCE': a pointer to the object; 'X87': long double (st0 on return). */
export type Classification = EightbyteClass[] | 'MEMORY' | 'REFERENCE' | 'X87' | 'NONE';

export function classify(t: DwarfType): Classification {
  switch (t.kind) {
    case 'void':
      return 'NONE';
    case 'base':
      if (t.encoding === DW_ATE.float || t.encoding === DW_ATE.complex_float) {
        if (t.size > 8 && t.encoding === DW_ATE.float) return 'X87';
        return t.size <= 8 ? ['SSE'] : ['SSE', 'SSE'];
      }
      return t.size <= 8 ? ['INTEGER'] : t.size <= 16 ? ['INTEGER', 'INTEGER'] : 'MEMORY';
    case 'enum':
    case 'pointer':
    case 'reference':
    case 'function':
      return ['INTEGER'];
    case 'struct':
    case 'array': {
      if (t.kind === 'struct' && t.passByReference) return 'REFERENCE';
      const size = sizeOf(t);
      if (!(size > 0)) return 'NONE';
      if (size > 16) return 'MEMORY';
      const classes: (EightbyteClass | null)[] = size > 8 ? [null, null] : [null];
      if (!mergeFields(t, 0, classes, 0)) return 'MEMORY';
      return classes.map((c) => c ?? 'SSE');
    }
    default:
      return 'MEMORY';
  }
}

/** Folds the scalars inside `t` (at `base`) into the eightbyte classes; false when something forces MEMORY. */
function mergeFields(t: DwarfType, base: number, classes: (EightbyteClass | null)[], depth: number): boolean {
  if (depth > 8) return false;
  if (t.kind === 'struct') {
    for (const m of t.members()) if (!mergeFields(m.type, base + m.offset, classes, depth + 1)) return false;
    return true;
  }
  if (t.kind === 'array') {
    const e = t.element();
    const es = sizeOf(e);
    const n = t.count ?? 0;
    for (let i = 0; i < n && es > 0; i++) if (!mergeFields(e, base + i * es, classes, depth + 1)) return false;
    return true;
  }
  const c = classify(t);
  if (!Array.isArray(c)) return false;
  const size = sizeOf(t);
  if (size > 0 && base % Math.min(size, 8) !== 0) return false; // unaligned field
  for (let k = 0; k < c.length; k++) {
    const slot = Math.floor(base / 8) + k;
    if (slot >= classes.length) return false;
    classes[slot] = classes[slot] === 'INTEGER' || c[k] === 'INTEGER' ? 'INTEGER' : 'SSE';
  }
  return true;
}

/** Where a value lives per the ABI: registers (one per eightbyte, DWARF numbers), memory at an address, or a pointer in a register. */
export type AbiLocation =
  | { kind: 'registers'; regs: number[] }
  | { kind: 'stack'; offset: number } // from the entry rsp
  | { kind: 'indirect'; reg: number } // the register holds the address of the value
  | { kind: 'x87' }
  | { kind: 'none' };

/** Parameter locations at the function's first instruction, in order. */
export function parameterLocations(types: DwarfType[], returnType: DwarfType): AbiLocation[] {
  let nextInt = 0;
  let nextSse = 0;
  let stack = 8; // [rsp] is the return address
  const ret = classify(returnType);
  if (ret === 'MEMORY' || ret === 'REFERENCE') nextInt = 1; // rdi: where to put the returned object
  const out: AbiLocation[] = [];
  for (const t of types) {
    const c = classify(t);
    if (c === 'NONE') {
      out.push({ kind: 'none' });
      continue;
    }
    if (c === 'REFERENCE') {
      if (nextInt < INT_ARG_REGS.length) out.push({ kind: 'indirect', reg: INT_ARG_REGS[nextInt++] });
      else {
        out.push({ kind: 'stack', offset: stack }); // the pointer itself is on the stack
        stack += 8;
      }
      continue;
    }
    if (Array.isArray(c)) {
      const ints = c.filter((k) => k === 'INTEGER').length;
      const sses = c.length - ints;
      if (nextInt + ints <= INT_ARG_REGS.length && nextSse + sses <= 8) {
        out.push({ kind: 'registers', regs: c.map((k) => (k === 'INTEGER' ? INT_ARG_REGS[nextInt++] : XMM0 + nextSse++)) });
        continue;
      }
    }
    const size = Math.max(8, sizeOf(t));
    const align = c === 'X87' || sizeOf(t) > 8 ? 16 : 8;
    if (align === 16 && stack % 16 !== 8) stack += 8; // 16-byte alignment relative to the CFA (rsp + 8)
    out.push({ kind: 'stack', offset: stack });
    stack += Math.ceil(size / 8) * 8;
  }
  return out;
}

/** Where the return value is right after `ret`. */
export function returnLocation(t: DwarfType): AbiLocation {
  const c = classify(t);
  if (c === 'NONE') return { kind: 'none' };
  if (c === 'MEMORY' || c === 'REFERENCE') return { kind: 'indirect', reg: 0 };
  if (c === 'X87') return { kind: 'x87' };
  let nextInt = 0;
  let nextSse = 0;
  return { kind: 'registers', regs: c.map((k) => (k === 'INTEGER' ? INT_RET_REGS[nextInt++] : XMM0 + nextSse++)) };
}
