/**
 * Readable stacks for tests, snapshots and failure messages: normalized names with
 * `file:line` (relative to the project root, else the basename), never addresses or pids.
 */
import type { Frame, Hit, Stack } from '../capture/types';
import { FOLDED_STEP, TRUNCATED_STEP, weightOf } from './merge';
import { normalizeFrames, type NormalizeOptions } from './normalize';

export interface StackFormatOptions extends NormalizeOptions {
  /** Absolute project root: files under it print relative to it, others as their basename. */
  rootDir?: string;
}

export interface MergedStack {
  hook: string;
  count: number;
  /** Innermost first: `leaf (src/app.c:3)`. */
  frames: string[];
}

function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return i >= 0 ? p.slice(i + 1) : p;
}

/** A path relative to rootDir when under it, else its basename. */
export function displayPath(file: string, rootDir?: string): string {
  if (rootDir && file.startsWith('/')) {
    const root = rootDir.endsWith('/') ? rootDir : rootDir + '/';
    if (file.startsWith(root)) return file.slice(root.length);
  }
  return basename(file);
}

/** `file:line`, `[module]` or `??`. */
export function frameLocation(frame: Frame, rootDir?: string): string {
  if (frame.file) return frame.line != null ? `${displayPath(frame.file, rootDir)}:${frame.line}` : displayPath(frame.file, rootDir);
  if (frame.module) return `[${basename(frame.module)}]`;
  return '??';
}

export function formatFrame(name: string, frame: Frame, rootDir?: string): string {
  return `${name} (${frameLocation(frame, rootDir)})${frame.inlined ? ' [inlined]' : ''}`;
}

/** One stack, innermost first, normalized like call paths but with every library frame (README "Normalization"). */
export function formatStack(frames: readonly Frame[], options: StackFormatOptions = {}): string[] {
  return normalizeFrames(frames, { ...options, libraryFrames: 'all' })
    .reverse()
    .map((f) => formatFrame(f.name, f.frame, options.rootDir));
}

/** Identical readable stacks of one hook merged with a count, in order of first appearance. */
export function mergeStacks(hits: readonly (Hit | Stack)[], options: StackFormatOptions = {}, hook?: string): MergedStack[] {
  const byKey = new Map<string, MergedStack>();
  const merged: MergedStack[] = [];
  for (const hit of hits) {
    if (hook !== undefined && hit.hook !== hook) continue;
    const frames = formatStack(hit.frames, options);
    if ('folded' in hit && hit.folded) frames.push(FOLDED_STEP);
    else if (hit.truncated) frames.unshift(TRUNCATED_STEP);
    const key = `${hit.hook}\u0000${frames.join('\u0000')}`;
    const seen = byKey.get(key);
    if (seen) seen.count += weightOf(hit);
    else {
      const entry = { hook: hit.hook, count: weightOf(hit), frames };
      byKey.set(key, entry);
      merged.push(entry);
    }
  }
  return merged;
}
