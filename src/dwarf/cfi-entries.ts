/**
 * Parsing of CIEs and FDEs in .eh_frame (GNU, augmentation strings, DW_EH_PE_* pointers)
 * and .debug_frame (DWARF 2-5, 32- and 64-bit). Entries are parsed on demand and cached by
 * section offset; nothing here runs per unwound frame once a pc's row is compiled.
 */
import { CorruptCfiError } from '../errors';
import { ByteReader } from './byte-reader';

export interface SectionBytes {
  data: Buffer;
  /** Link-time address of the section (sh_addr). */
  address: number;
}

// DW_EH_PE_* pointer encodings
export const DW_EH_PE_omit = 0xff;
const PE_FORMAT = 0x0f;
const PE_APPLY = 0x70;
const PE_INDIRECT = 0x80;

export class CommonInfoEntry {
  codeAlign = 1;
  dataAlign = 1;
  returnColumn = 16;
  /** Encoding of FDE addresses (eh_frame 'R'); absolute 8-byte for .debug_frame. */
  fdeEncoding = 0;
  /** 'S': FDEs of this CIE describe signal trampolines. */
  signalFrame = false;
  hasAugmentationData = false;
  addressSize = 8;
  segmentSize = 0;
  instructionsStart = 0;
  instructionsEnd = 0;
  constructor(readonly section: CfiSection, readonly offset: number, readonly augmentation: string) {}
}

export class FrameDescriptionEntry {
  constructor(
    readonly cie: CommonInfoEntry,
    readonly offset: number,
    /** Link-time address range [pcBegin, pcEnd). */
    readonly pcBegin: number,
    readonly pcEnd: number,
    readonly instructionsStart: number,
    readonly instructionsEnd: number,
  ) {}
}

/** Decodes DW_EH_PE_* encoded pointers; `fieldAddress` is the link-time address of the field. */
export function readEncodedPointer(r: ByteReader, encoding: number, section: SectionBytes, dataBase: number): number {
  if (encoding === DW_EH_PE_omit) return NaN;
  const fieldAddress = section.address + r.offset;
  if ((encoding & PE_APPLY) === 0x50) {
    // aligned: the value sits at the next 8-byte boundary (of the address)
    const pad = (8 - (fieldAddress % 8)) % 8;
    r.skip(pad);
    return r.u64();
  }
  let value: number;
  switch (encoding & PE_FORMAT) {
    case 0x00: value = r.u64(); break; // absptr (8 bytes on x86-64)
    case 0x01: value = r.uleb128(); break;
    case 0x02: value = r.u16(); break;
    case 0x03: value = r.u32(); break;
    case 0x04: value = r.u64(); break;
    case 0x09: value = r.sleb128(); break;
    case 0x0a: value = r.i16(); break;
    case 0x0b: value = r.i32(); break;
    case 0x0c: value = r.i64(); break;
    default:
      throw new CorruptCfiError('.eh_frame', r.offset, `unknown pointer encoding 0x${encoding.toString(16)}`);
  }
  switch (encoding & PE_APPLY) {
    case 0x00: break;
    case 0x10: value += fieldAddress; break; // pcrel
    case 0x30: value += dataBase; break; // datarel
    case 0x20: // textrel
    case 0x40: // funcrel: not used by x86-64 toolchains for FDE addresses
    default:
      throw new CorruptCfiError('.eh_frame', r.offset, `unsupported pointer application 0x${encoding.toString(16)}`);
  }
  // DW_EH_PE_indirect (personality pointers) would need a memory read; callers only skip those.
  void PE_INDIRECT;
  return value;
}

/** Size in bytes of a fixed-size pointer encoding, or 0 for variable-size ones. */
export function encodedPointerSize(encoding: number): number {
  switch (encoding & PE_FORMAT) {
    case 0x00: case 0x04: case 0x0c: return 8;
    case 0x02: case 0x0a: return 2;
    case 0x03: case 0x0b: return 4;
    default: return 0;
  }
}

/** One .eh_frame or .debug_frame section. */
export class CfiSection {
  readonly name: string;
  private readonly cies = new Map<number, CommonInfoEntry>();
  private readonly fdes = new Map<number, FrameDescriptionEntry | null>();

  constructor(readonly bytes: SectionBytes, readonly isEhFrame: boolean) {
    this.name = isEhFrame ? '.eh_frame' : '.debug_frame';
  }

  /** The FDE at `offset`, or null when the entry there is a CIE or the terminator. */
  fdeAt(offset: number): FrameDescriptionEntry | null {
    let fde = this.fdes.get(offset);
    if (fde === undefined) {
      fde = this.parseEntry(offset, null);
      this.fdes.set(offset, fde);
    }
    return fde;
  }

  /** Calls `visit` for every FDE of the section, in section order. */
  forEachFde(visit: (fde: FrameDescriptionEntry) => void): void {
    const buf = this.bytes.data;
    let offset = 0;
    while (offset + 4 <= buf.length) {
      const next: number[] = [0];
      const fde = this.parseEntry(offset, next);
      if (next[0] < 0) break;
      if (fde) {
        this.fdes.set(offset, fde);
        visit(fde);
      }
      offset = next[0];
    }
  }

  private cieAt(offset: number): CommonInfoEntry {
    let cie = this.cies.get(offset);
    if (!cie) {
      cie = this.parseCie(offset);
      this.cies.set(offset, cie);
    }
    return cie;
  }

  /** Reads an entry's header; returns [idFieldOffset, contentEnd, is64, end] or null for the terminator. */
  private header(offset: number): { idOffset: number; end: number; is64: boolean } | null {
    const buf = this.bytes.data;
    if (offset + 4 > buf.length) throw new CorruptCfiError(this.name, offset, 'entry header past the end of the section');
    let length = buf.readUInt32LE(offset);
    if (length === 0) return null;
    let idOffset = offset + 4;
    let is64 = false;
    if (length === 0xffffffff) {
      length = buf.readUInt32LE(offset + 8) * 0x100000000 + buf.readUInt32LE(offset + 4);
      idOffset = offset + 12;
      is64 = true;
    }
    const end = idOffset + length;
    if (end > buf.length) throw new CorruptCfiError(this.name, offset, `entry length ${length} runs past the end of the section`);
    return { idOffset, end, is64 };
  }

  private parseEntry(offset: number, next: number[] | null): FrameDescriptionEntry | null {
    const h = this.header(offset);
    if (!h) {
      // terminator: .eh_frame ends here; a zero-length entry in .debug_frame is just padding
      if (next) next[0] = this.isEhFrame ? -1 : offset + 4;
      return null;
    }
    if (next) next[0] = h.end;
    const r = new ByteReader(this.bytes.data, h.idOffset);
    const id = h.is64 && !this.isEhFrame ? r.u64() : r.u32();
    let cieOffset: number;
    if (this.isEhFrame) {
      if (id === 0) return null;
      cieOffset = h.idOffset - id;
    } else {
      if (id === 0xffffffff || id === 0xffffffffffffffff) return null;
      cieOffset = id;
    }
    const cie = this.cieAt(cieOffset);
    if (cie.segmentSize) r.skip(cie.segmentSize);
    let pcBegin: number;
    let pcRange: number;
    if (this.isEhFrame) {
      pcBegin = readEncodedPointer(r, cie.fdeEncoding, this.bytes, 0);
      pcRange = readEncodedPointer(r, cie.fdeEncoding & PE_FORMAT, this.bytes, 0);
    } else {
      pcBegin = r.uint(cie.addressSize);
      pcRange = r.uint(cie.addressSize);
    }
    if (cie.hasAugmentationData) {
      const len = r.uleb128();
      r.skip(len);
    }
    return new FrameDescriptionEntry(cie, offset, pcBegin, pcBegin + pcRange, r.offset, h.end);
  }

  private parseCie(offset: number): CommonInfoEntry {
    const h = this.header(offset);
    if (!h) throw new CorruptCfiError(this.name, offset, 'FDE points at a terminator instead of a CIE');
    const r = new ByteReader(this.bytes.data, h.idOffset);
    const id = h.is64 && !this.isEhFrame ? r.u64() : r.u32();
    if (this.isEhFrame ? id !== 0 : id !== 0xffffffff && id !== 0xffffffffffffffff) {
      throw new CorruptCfiError(this.name, offset, 'FDE points at an entry that is not a CIE');
    }
    const version = r.u8();
    if (version !== 1 && version !== 3 && version !== 4) {
      throw new CorruptCfiError(this.name, offset, `unsupported CIE version ${version}`);
    }
    const augmentation = r.cstring();
    const cie = new CommonInfoEntry(this, offset, augmentation);
    if (augmentation.includes('eh')) r.skip(8); // very old GCC: eh_ptr
    if (version >= 4) {
      cie.addressSize = r.u8();
      cie.segmentSize = r.u8();
    }
    cie.codeAlign = r.uleb128();
    cie.dataAlign = r.sleb128();
    cie.returnColumn = version === 1 ? r.u8() : r.uleb128();
    if (augmentation[0] === 'z') {
      cie.hasAugmentationData = true;
      cie.signalFrame = augmentation.includes('S');
      const len = r.uleb128();
      const dataEnd = r.offset + len;
      for (let i = 1; i < augmentation.length; i++) {
        const c = augmentation[i];
        if (c === 'R') cie.fdeEncoding = r.u8();
        else if (c === 'L') r.u8();
        else if (c === 'P') readEncodedPointer(r, r.u8() & ~PE_INDIRECT, this.bytes, 0);
        else if (c !== 'S' && c !== 'B' && c !== 'G') break; // unknown letter: the rest is skipped with the 'z' length
      }
      r.offset = dataEnd;
    } else if (augmentation !== '' && !augmentation.startsWith('eh')) {
      throw new CorruptCfiError(this.name, offset, `unknown CIE augmentation "${augmentation}"`);
    }
    cie.instructionsStart = r.offset;
    cie.instructionsEnd = h.end;
    return cie;
  }
}
