/** Identical call paths of one hook merged with a count, in order of first appearance. */
import type { Hit, Stack } from '../capture/types';
import { callPathOf, inProgramPhase, type NormalizeOptions } from './normalize';
import { splitCallPath } from './split';

export interface MergedCallPath {
  hook: string;
  /** Caller-first normalized function names. */
  path: string[];
  count: number;
  /** `seq` of the first hit with this path. */
  firstSeq: number;
}

export const CALL_PATH_SEPARATOR = ' > ';

/** First step of a folded stack's path (capture.stacks past the distinct-stack limit keep only frame 0). */
export const FOLDED_STEP = '(folded)';

/** First step of the path of a stack cut at maxFrames (its outermost callers, main among them, are missing). */
export const TRUNCATED_STEP = '(truncated)';

/** A hit counts once; a distinct stack counts its hits. */
export function weightOf(item: Hit | Stack): number {
  return 'count' in item ? item.count : 1;
}

export function firstSeqOf(item: Hit | Stack): number {
  return 'first' in item ? item.first : item.seq;
}

/** Merges hits or distinct stacks with their counts (optionally only those of `hook`) into distinct call paths per hook. */
export function mergeCallPaths(hits: readonly (Hit | Stack)[], options: NormalizeOptions = {}, hook?: string): MergedCallPath[] {
  const byKey = new Map<string, MergedCallPath>();
  const merged: MergedCallPath[] = [];
  for (const hit of hits) {
    if (hook !== undefined && hit.hook !== hook) continue;
    if (!inPhase(hit, options)) continue;
    const path = callPathOf(hit.frames, options);
    if ('folded' in hit && hit.folded) path.unshift(FOLDED_STEP);
    else if (hit.truncated) path.unshift(TRUNCATED_STEP);
    const key = `${hit.hook}\u0000${path.join('\u0000')}`;
    const seen = byKey.get(key);
    if (seen) seen.count += weightOf(hit);
    else {
      const entry = { hook: hit.hook, path, count: weightOf(hit), firstSeq: firstSeqOf(hit) };
      byKey.set(key, entry);
      merged.push(entry);
    }
  }
  return merged;
}

/**
 * Whether a hit or distinct stack counts under `options.phase` (default 'main': inProgramPhase).
 * A folded or truncated stack always counts: the frames that would tell its phase are not there.
 */
export function inPhase(item: Hit | Stack, options: NormalizeOptions = {}): boolean {
  return options.phase === 'all' || ('folded' in item && item.folded === true) || item.truncated === true || inProgramPhase(item.frames);
}

/** `main > top > mid > leaf` */
export function joinCallPath(path: readonly string[]): string {
  return path.join(CALL_PATH_SEPARATOR);
}

/** `3× main > top > mid > leaf` */
export function formatMergedCallPath(entry: Pick<MergedCallPath, 'count' | 'path'>): string {
  return `${entry.count}× ${joinCallPath(entry.path)}`;
}

const COUNTED = /^(\d+)× (.*)$/;

/** Reads back `3× a > b` (or `a > b`, count 1) as printed by formatMergedCallPath; `>` inside names (`f<T>`, `operator>`) stays. */
export function parseCallPathLine(line: string): { count: number; path: string[] } {
  const m = COUNTED.exec(line.trim());
  const text = m ? m[2] : line.trim();
  return { count: m ? Number(m[1]) : 1, path: splitCallPath(text) };
}
