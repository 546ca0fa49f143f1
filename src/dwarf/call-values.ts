/**
 * Parameters at a function's first instruction and its return value right after `ret`, from
 * the function's DWARF signature. A location list entry or a register/CFA-relative expression is
 * exact at the entry pc and is used as is; an -O0 style single expression that names a stack slot
 * the prologue has not written yet (DW_OP_fbreg below the CFA, or relative to rbp/rsp) is replaced
 * by where the System V ABI says the caller put the value (which is what the prologue stores there).
 */
import type { ArgValue } from '../capture/types';
import { sizeOf } from './dwarf-types';
import type { FunctionSignature, Parameter } from './parameters';
import { parameterLocations, returnLocation, type AbiLocation } from './sysv-abi';
import { evaluateLocation, fetchAbi, fetchBytes, type ValueSource } from './location';
import { decodeValue } from './value-decoder';

/** `rsp`: the stack pointer at the stop; `atEntry`: stopped at the out-of-line function's first instruction. */
export function readArguments(sig: FunctionSignature, src: ValueSource, rsp: number, atEntry: boolean): Record<string, ArgValue> {
  const out: Record<string, ArgValue> = {};
  let abi: AbiLocation[] | null = null;
  const frame = { cfa: atEntry ? rsp + 8 : null, frameBase: sig.frameBase, atEntry };
  sig.parameters.forEach((p, i) => {
    const size = sizeOf(p.type);
    if (p.constValue !== null && !p.location.expr) {
      out[p.name] = decodeValue(p.type, constBytes(p.constValue, size), src);
      return;
    }
    if (atEntry && !p.location.fromList && p.location.expr && beforePrologue(p.location.expr, sig.frameBase)) {
      abi ??= parameterLocations(sig.parameters.map((q) => q.type), sig.returnType);
      out[p.name] = decodeValue(p.type, fetchAbi(abi[i], size, src, rsp), src);
      return;
    }
    const loc = evaluateLocation(p.location.expr, src, frame);
    out[p.name] = decodeValue(p.type, fetchBytes(loc, size, src), src);
  });
  return out;
}

/** The return value right after the function's `ret` (registers as the ABI puts them). */
export function readReturnValue(sig: FunctionSignature, src: ValueSource, rsp: number): ArgValue {
  const t = sig.returnType;
  if (t.kind === 'void') return null;
  return decodeValue(t, fetchAbi(returnLocation(t), sizeOf(t), src, rsp), src);
}

/** True for a location only valid once the prologue ran: a local slot below the CFA, or an rbp/rsp offset. */
function beforePrologue(expr: Buffer, frameBase: Buffer | null): boolean {
  const op = expr[0];
  if (op === 0x76 || op === 0x77) return true; // breg6 (rbp), breg7 (rsp)
  if (op !== 0x91) return false; // fbreg
  const cfaBased = frameBase !== null && frameBase.length === 1 && frameBase[0] === 0x9c;
  return !cfaBased || sleb(expr, 1) < 0;
}

function sleb(buf: Buffer, pos: number): number {
  let result = 0;
  let scale = 1;
  let b: number;
  do {
    b = buf[pos++];
    result += (b & 0x7f) * scale;
    scale *= 128;
  } while (b & 0x80);
  if (b & 0x40) result -= scale;
  return result;
}

function constBytes(v: number, size: number): Buffer {
  const b = Buffer.alloc(Math.max(8, size));
  b.writeBigInt64LE(BigInt(v));
  return b.subarray(0, Math.max(size, 1));
}

export type { Parameter };
