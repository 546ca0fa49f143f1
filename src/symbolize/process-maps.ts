/** /proc/PID/maps, parsed. */
import * as fs from 'node:fs';

export interface Mapping {
  start: number;
  end: number;
  /** As the kernel prints them, e.g. "r-xp". */
  perms: string;
  /** File offset of `start`. */
  offset: number;
  /** Absolute file path, a pseudo name such as "[heap]", "[stack]", "[vdso]", or null for anonymous memory. */
  path: string | null;
}

const LINE = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S+)\s+([0-9a-f]+)\s+\S+\s+\d+\s?(.*)$/;

/** Parses the text of a maps file. */
export function parseProcessMaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    // The path column is padded with spaces; a path may itself contain spaces (but not end with one).
    const p = m[5].replace(/^\s+/, '');
    out.push({ start: parseInt(m[1], 16), end: parseInt(m[2], 16), perms: m[3], offset: parseInt(m[4], 16), path: p === '' ? null : p });
  }
  return out;
}

/** Reads and parses /proc/PID/maps (throws the fs error if the process is gone). */
export function readProcessMaps(pid: number): Mapping[] {
  return parseProcessMaps(fs.readFileSync(`/proc/${pid}/maps`, 'utf8'));
}
