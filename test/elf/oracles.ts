/** readelf / nm output parsed into plain records, used as oracles by the ELF tests. */
import { execFileSync } from 'node:child_process';

export function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } });
}

export interface ReadelfSection {
  index: number;
  name: string;
  type: string;
  address: number;
  offset: number;
  size: number;
  flags: string;
}

export function readelfSections(file: string): ReadelfSection[] {
  const out: ReadelfSection[] = [];
  const re = /^\s*\[\s*(\d+)\]\s+(\S*)\s+(\S+)\s+([0-9a-f]{16})\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+([A-Za-z]*)\s+\d+\s+\d+\s+\d+\s*$/;
  for (const line of run('readelf', ['-SW', file]).split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    out.push({ index: +m[1], name: m[2], type: m[3], address: parseInt(m[4], 16), offset: parseInt(m[5], 16), size: parseInt(m[6], 16), flags: m[7] });
  }
  return out;
}

export interface ReadelfSymbol {
  table: string;
  value: number;
  size: number;
  type: string;
  bind: string;
  ndx: string;
  name: string;
}

/** `readelf -sW` (both tables); names keep readelf's `@VER` decoration. */
export function readelfSymbols(file: string, dynOnly = false): ReadelfSymbol[] {
  const out: ReadelfSymbol[] = [];
  let table = '';
  const re = /^\s*\d+:\s+([0-9a-f]+)\s+(\d+|0x[0-9a-f]+)\s+(\S+)\s+(\S+)\s+\S+\s+(\S+)\s+(.*)$/;
  for (const line of run('readelf', [dynOnly ? '--dyn-syms' : '-s', '-W', file]).split('\n')) {
    const t = /^Symbol table '([^']+)'/.exec(line);
    if (t) {
      table = t[1];
      continue;
    }
    const m = re.exec(line);
    if (!m) continue;
    out.push({ table, value: parseInt(m[1], 16), size: Number(m[2]), type: m[3], bind: m[4], ndx: m[5], name: m[6].replace(/ \(\d+\)$/, '') });
  }
  return out;
}

export interface NmSymbol {
  address: number;
  size: number | null;
  letter: string;
  name: string;
}

export function nmDefined(file: string, dynamic = false): NmSymbol[] {
  const out: NmSymbol[] = [];
  for (const line of run('nm', ['-S', '--defined-only', ...(dynamic ? ['-D'] : []), file]).split('\n')) {
    const m = /^([0-9a-f]+)\s+(?:([0-9a-f]+)\s+)?(\S)\s+(\S+)$/.exec(line);
    if (m) out.push({ address: parseInt(m[1], 16), size: m[2] ? parseInt(m[2], 16) : null, letter: m[3], name: m[4] });
  }
  return out;
}

export function bare(name: string): string {
  const at = name.indexOf('@');
  return at > 0 ? name.slice(0, at) : name;
}
