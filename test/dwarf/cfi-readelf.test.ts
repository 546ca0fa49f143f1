/**
 * Every row of every FDE, as `readelf --debug-dump=frames-interp` prints it, must match what
 * CfiTable.ruleAt compiles for the row's first and last address: glibc, ld.so, libstdc++
 * (zPLR CIEs, GNU_args_size, remember/restore_state), an -O2 fixture's .eh_frame and a
 * .debug_frame-only build.
 */
import { spawnSync } from 'node:child_process';
import { CfiTable } from '../../src/dwarf/cfi-table';
import {
  RULE_EXPRESSION,
  RULE_OFFSET,
  RULE_REGISTER,
  RULE_SAME_VALUE,
  RULE_UNDEFINED,
  RULE_VAL_EXPRESSION,
  RULE_VAL_OFFSET,
  type UnwindRule,
} from '../../src/dwarf/cfi-rule';
import { REGISTER_NAMES, REG_RIP } from '../../src/dwarf/registers';
import { buildFixture } from '../helpers/fixtures';
import { readElf, sectionBytes } from './elf-sections';

interface ReadelfRow {
  loc: number;
  cfa: string;
  regs: Map<number, string>;
}
interface ReadelfFde {
  section: string;
  start: number;
  end: number;
  rows: ReadelfRow[];
}

function registerNumber(name: string): number {
  if (name === 'ra') return REG_RIP;
  return REGISTER_NAMES.indexOf(name);
}

/** Parses readelf's interpreted frame tables (FDEs only). */
function readelfFrames(file: string): ReadelfFde[] {
  // readelf exits 1 on glibc (it follows .gnu_debuglink and complains silently); the dump is complete
  const res = spawnSync('readelf', ['--debug-dump=frames-interp', file], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  const out = res.stdout;
  if (!out || !out.includes('Contents of the')) throw new Error(`readelf failed on ${file}: ${res.stderr}`);
  const fdes: ReadelfFde[] = [];
  let section = '';
  let current: ReadelfFde | null = null;
  let columns: string[] = [];
  for (const line of out.split('\n')) {
    const sec = /^Contents of the (\S+) section/.exec(line);
    if (sec) section = sec[1];
    const fde = /^[0-9a-f]+ [0-9a-f]+ [0-9a-f]+ FDE cie=[0-9a-f]+ pc=([0-9a-f]+)\.\.([0-9a-f]+)/.exec(line);
    if (fde) {
      current = { section, start: parseInt(fde[1], 16), end: parseInt(fde[2], 16), rows: [] };
      fdes.push(current);
      continue;
    }
    if (/^[0-9a-f]+ [0-9a-f]+ [0-9a-f]+ CIE/.test(line)) current = null;
    if (!current) continue;
    if (/^\s+LOC\s+CFA/.test(line)) {
      columns = line.trim().split(/\s+/).slice(2);
      continue;
    }
    const row = /^([0-9a-f]{16}) (.*)$/.exec(line);
    if (row) {
      // register-rule cells read "r1 (rdx)": keep the name
      const cells = row[2].replace(/\S+ \(([a-z0-9]+)\)/g, '$1').trim().split(/\s+/);
      const regs = new Map<number, string>();
      columns.forEach((c, i) => {
        const r = registerNumber(c);
        if (r >= 0 && cells[i + 1] !== undefined) regs.set(r, cells[i + 1]);
      });
      current.rows.push({ loc: parseInt(row[1], 16), cfa: cells[0], regs });
    }
  }
  return fdes;
}

/** Our rule printed the way readelf prints a row, for the columns readelf shows. */
function describeRule(rule: UnwindRule, regs: Iterable<number>): string {
  const cfa = rule.cfaRegister < 0 ? 'exp' : `${REGISTER_NAMES[rule.cfaRegister]}+${rule.cfaOffset}`;
  const cells = [cfa];
  for (const r of regs) {
    const v = rule.values[r];
    const sign = (n: number) => (n >= 0 ? `+${n}` : `${n}`);
    switch (rule.kinds[r]) {
      case RULE_SAME_VALUE: cells.push('u'); break; // readelf prints never-set columns as 'u' too
      case RULE_UNDEFINED: cells.push('u'); break;
      case RULE_OFFSET: cells.push(`c${sign(v)}`); break;
      case RULE_VAL_OFFSET: cells.push(r === 7 && v === 0 ? 'u' : `v${sign(v)}`); break; // implicit rsp = CFA
      case RULE_REGISTER: cells.push(REGISTER_NAMES[v]); break;
      case RULE_EXPRESSION: cells.push('exp'); break;
      case RULE_VAL_EXPRESSION: cells.push('vexp'); break;
    }
  }
  return cells.join(' ');
}

function readelfCells(row: ReadelfRow): string {
  // readelf's explicit same_value 's' is our RULE_SAME_VALUE, which we print as 'u'
  return [row.cfa, ...[...row.regs.values()].map((c) => (c === 's' ? 'u' : c))].join(' ');
}

function checkFile(file: string, sectionFilter?: string): { fdes: number; rows: number } {
  const elf = readElf(file);
  const table = CfiTable.fromSections({
    ehFrame: sectionBytes(elf, '.eh_frame'),
    ehFrameHdr: sectionBytes(elf, '.eh_frame_hdr'),
    debugFrame: sectionBytes(elf, '.debug_frame'),
  });
  const fdes = readelfFrames(file).filter((f) => !sectionFilter || f.section === sectionFilter);
  const mismatches: string[] = [];
  let rows = 0;
  for (const fde of fdes) {
    if (fde.start === fde.end) continue;
    fde.rows.forEach((row, i) => {
      const last = (i + 1 < fde.rows.length ? fde.rows[i + 1].loc : fde.end) - 1;
      for (const pc of row.loc === last ? [row.loc] : [row.loc, last]) {
        rows++;
        const rule = table.ruleAt(pc);
        const want = readelfCells(row);
        const got = rule ? describeRule(rule, row.regs.keys()) : 'no rule';
        if (got !== want && mismatches.length < 10) mismatches.push(`${fde.section} pc 0x${pc.toString(16)}: readelf "${want}", ours "${got}"`);
      }
    });
    // the rsp column is implicit (CFA) unless a rule names it
    if (!fde.rows[0]?.regs.has(7) && fde.rows.length) {
      const rule = table.ruleAt(fde.rows[0].loc);
      if (rule && !(rule.kinds[7] === RULE_VAL_OFFSET && rule.values[7] === 0)) mismatches.push(`rsp at 0x${fde.start.toString(16)} is not the CFA`);
    }
  }
  expect(table.errors).toEqual([]);
  expect(mismatches).toEqual([]);
  return { fdes: fdes.length, rows };
}

describe('CFI rows match readelf --debug-dump=frames-interp', () => {
  test.each([
    ['glibc', '/lib/x86_64-linux-gnu/libc.so.6'],
    ['ld.so', '/lib64/ld-linux-x86-64.so.2'],
    ['libstdc++ (zPLR, GNU_args_size)', '/usr/lib/x86_64-linux-gnu/libstdc++.so.6'],
  ])('%s', (_name, file) => {
    const { fdes, rows } = checkFile(file);
    expect(fdes).toBeGreaterThan(100);
    expect(rows).toBeGreaterThan(fdes);
  });

  test('an -O2 -fomit-frame-pointer fixture (.eh_frame)', () => {
    const { fdes } = checkFile(buildFixture('libc_calls.c', { flags: ['-O2', '-fomit-frame-pointer', '-g'] }));
    expect(fdes).toBeGreaterThanOrEqual(5);
  });

  test('a Rust -O2 binary (std statically linked)', () => {
    const { fdes } = checkFile(buildFixture('unwind_rust.rs', { flags: ['-g', '-C', 'opt-level=2'] }));
    expect(fdes).toBeGreaterThan(100);
  });

  test('a .debug_frame-only fixture', () => {
    const file = buildFixture('chain.c', { flags: ['-O2', '-fomit-frame-pointer', '-g', '-fno-asynchronous-unwind-tables', '-fno-unwind-tables'], variant: 'debugframe' });
    const { fdes } = checkFile(file, '.debug_frame');
    expect(fdes).toBe(4); // leaf, mid, top, main
  });

  test('pcs outside every FDE have no rule', () => {
    const elf = readElf('/lib/x86_64-linux-gnu/libc.so.6');
    const table = CfiTable.fromSections({ ehFrame: sectionBytes(elf, '.eh_frame'), ehFrameHdr: sectionBytes(elf, '.eh_frame_hdr') });
    expect(table.ruleAt(0)).toBeNull();
    expect(table.ruleAt(0x10)).toBeNull();
    expect(table.ruleAt(2 ** 46)).toBeNull();
  });
});
