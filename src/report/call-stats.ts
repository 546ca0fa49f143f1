/**
 * Per call path of a hook: how many calls, how many returned (and why the others did not), the
 * duration percentiles (a regression signal for CI), and the first call's arguments and return,
 * for the hits that recorded arguments or returns (issue 13).
 */
import type { Hit } from '../capture/types';
import { formatCallLine, formatDuration, formatValue } from '../capture/value-format';
import { normalizeFrames } from '../callpath/normalize';

export interface PathCallStats {
  /** "main > parse > xalloc" */
  path: string;
  calls: number;
  returned: number;
  /** Calls that did not return, by reason ("exception": 2). */
  noReturn: Record<string, number>;
  /** Nanoseconds; null without returns. */
  durations: { p50: number; p90: number; p99: number; max: number } | null;
  /** The first call's frame line and return line, as `ustack record` prints them. */
  example: { call: string | null; return: string | null };
}

export function hasCallValues(hits: readonly Hit[]): boolean {
  return hits.some((h) => h.args !== undefined || h.return !== undefined);
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function callStatsByPath(hits: readonly Hit[]): PathCallStats[] {
  const groups = new Map<string, Hit[]>();
  for (const h of hits) {
    const path = normalizeFrames(h.frames).map((f) => f.name).join(' > ');
    const list = groups.get(path);
    if (list) list.push(h);
    else groups.set(path, [h]);
  }
  const out: PathCallStats[] = [];
  for (const [path, list] of groups) {
    const durations = list.filter((h) => h.return).map((h) => h.return!.durationNs).sort((a, b) => a - b);
    const noReturn: Record<string, number> = {};
    for (const h of list) if (h.return === null) noReturn[h.noReturn ?? 'unwound'] = (noReturn[h.noReturn ?? 'unwound'] ?? 0) + 1;
    const first = list[0];
    const name = normalizeFrames(first.frames.slice(0, 1), { startAtMain: false, libraryFrames: 'all' })[0]?.name ?? first.hook;
    out.push({
      path,
      calls: list.length,
      returned: durations.length,
      noReturn,
      durations: durations.length
        ? { p50: percentile(durations, 50), p90: percentile(durations, 90), p99: percentile(durations, 99), max: durations[durations.length - 1] }
        : null,
      example: {
        call: first.args ? formatCallLine(name, first.args) : null,
        return: first.return ? `=> ${formatValue(first.return.value)}` : first.return === null ? `=> no return (${first.noReturn ?? 'unwound'})` : null,
      },
    });
  }
  return out;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** A markdown table of the per-path statistics (empty when the hits recorded no arguments or returns). */
export function callStatsMarkdown(hits: readonly Hit[], maxRows: number): string[] {
  if (!hasCallValues(hits)) return [];
  const stats = callStatsByPath(hits);
  const lines = ['| calls | returned | p50 | p90 | p99 | max | call path | first call |', '| ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |'];
  for (const s of stats.slice(0, maxRows)) {
    const d = s.durations;
    const t = (ns: number | undefined) => (ns === undefined ? '–' : formatDuration(ns));
    const missing = Object.entries(s.noReturn).map(([k, n]) => `${n} ${k}`);
    const returned = `${s.returned}${missing.length ? ` (${missing.join(', ')})` : ''}`;
    const example = [s.example.call, s.example.return].filter(Boolean).join(' ');
    lines.push(`| ${s.calls} | ${cell(returned)} | ${t(d?.p50)} | ${t(d?.p90)} | ${t(d?.p99)} | ${t(d?.max)} | \`${cell(s.path)}\` | ${example ? '`' + cell(example).replace(/`/g, "'") + '`' : ''} |`);
  }
  if (stats.length > maxRows) lines.push(`| | | | | | | … ${stats.length - maxRows} more paths (see report.json) | |`);
  return lines;
}
