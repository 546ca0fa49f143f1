import { ByteReader } from './byte-reader';
import { DW_FORM } from './debug-info-constants';

/** One abbreviation declaration: the tag, whether children follow, and the (attribute, form) list. */
export interface Abbrev {
  tag: number;
  hasChildren: boolean;
  attrs: Uint32Array;
  forms: Uint32Array;
  /** Values of DW_FORM_implicit_const attributes (0 for other forms). */
  implicitConsts: Float64Array;
}

/** An abbreviation table of .debug_abbrev, indexed by code (dense codes go into an array). */
export class AbbrevTable {
  private readonly dense: (Abbrev | undefined)[] = [];
  private readonly sparse = new Map<number, Abbrev>();

  static parse(buf: Buffer, offset: number): AbbrevTable {
    const table = new AbbrevTable();
    const r = new ByteReader(buf, offset);
    for (;;) {
      const code = r.uleb128();
      if (code === 0) break;
      const tag = r.uleb128();
      const hasChildren = r.u8() !== 0;
      const attrs: number[] = [];
      const forms: number[] = [];
      const consts: number[] = [];
      for (;;) {
        const at = r.uleb128();
        const form = r.uleb128();
        if (at === 0 && form === 0) break;
        attrs.push(at);
        forms.push(form);
        consts.push(form === DW_FORM.implicit_const ? r.sleb128() : 0);
      }
      const abbrev: Abbrev = {
        tag,
        hasChildren,
        attrs: Uint32Array.from(attrs),
        forms: Uint32Array.from(forms),
        implicitConsts: Float64Array.from(consts),
      };
      if (code < 65536) table.dense[code] = abbrev;
      else table.sparse.set(code, abbrev);
    }
    return table;
  }

  get(code: number): Abbrev | undefined {
    return code < 65536 ? this.dense[code] : this.sparse.get(code);
  }
}
