/**
 * Turns the hits of captures into what the outputs draw: caller-first call paths (normalized
 * like the serializer), merged with counts, and trees for flame graphs.
 */
import type { Capture, Frame, Hit, Stack } from '../capture/types';
import { expandHits } from '../capture/model';
import { FOLDED_STEP, TRUNCATED_STEP } from '../callpath/merge';
import { normalizeFrames } from '../callpath/normalize';

export interface PathFrame {
  name: string;
  /** "file:line" of this frame, or null when unknown. */
  location: string | null;
}

export interface MergedPath {
  frames: PathFrame[];
  /** "main > a > b" */
  text: string;
  count: number;
}

export interface FlameNode {
  name: string;
  value: number;
  /** Distinct source locations seen for this node with their counts, most frequent first. */
  locations: Array<[string, number]>;
  children: FlameNode[];
}

export function frameLocation(frame: Pick<Frame, 'file' | 'line'>): string | null {
  if (!frame.file) return null;
  return frame.line != null ? `${frame.file}:${frame.line}` : frame.file;
}

/** The caller-first, normalized path of one hit or distinct stack (a folded stack starts with "(folded)"). */
export function hitPath(hit: Hit | Stack): PathFrame[] {
  const path = normalizeFrames(hit.frames, { libraryFrames: 'all' }).map((f) => ({ name: f.name, location: frameLocation(f.frame) }));
  if ('folded' in hit && hit.folded) path.unshift({ name: FOLDED_STEP, location: null });
  else if (hit.truncated) path.unshift({ name: TRUNCATED_STEP, location: null });
  return path;
}

/** Hooks in the order the capture declares them, then any hook only seen in hits. */
export function hooksOf(capture: Capture): string[] {
  const hooks = capture.hooks.map((h) => h.spec);
  for (const stack of capture.stacks) if (!hooks.includes(stack.hook)) hooks.push(stack.hook);
  return hooks;
}

/** The distinct stacks of one hook over several captures, each with its hit count. */
export function stacksOfHook(captures: Capture[], hook: string): Stack[] {
  const out: Stack[] = [];
  for (const c of captures) for (const s of [...c.stacks].sort((a, b) => a.first - b.first)) if (s.hook === hook) out.push(s);
  return out;
}

/** The kept hits of one hook over several captures, with their per-call values (arguments, returns). */
export function keptHitsOfHook(captures: Capture[], hook: string): Hit[] {
  return captures.flatMap((c) => expandHits(c).filter((h) => h.hook === hook));
}

/** True number of hits of these stacks. */
export function hitTotal(stacks: readonly Stack[]): number {
  let n = 0;
  for (const s of stacks) n += s.count;
  return n;
}

/** Identical paths merged with their counts, in order of first appearance. */
export function mergePaths(stacks: readonly Stack[]): MergedPath[] {
  const byText = new Map<string, MergedPath>();
  for (const stack of stacks) {
    const frames = hitPath(stack);
    const text = frames.map((f) => f.name).join(' > ');
    const seen = byText.get(text);
    if (seen) seen.count += stack.count;
    else byText.set(text, { frames, text, count: stack.count });
  }
  return [...byText.values()];
}

export function formatMergedPath(p: MergedPath): string {
  return `${p.count}× ${p.text}`;
}

/** A flame-graph tree (root = `rootName`) of caller-first paths, each counted `weights[i]` times (default 1). */
export function buildFlameTree(rootName: string, paths: PathFrame[][], weights?: readonly number[]): FlameNode {
  const root: FlameNode = { name: rootName, value: 0, locations: [], children: [] };
  const locationCounts = new Map<FlameNode, Map<string, number>>();
  paths.forEach((path, i) => {
    const weight = weights?.[i] ?? 1;
    root.value += weight;
    let node = root;
    for (const frame of path) {
      let child = node.children.find((c) => c.name === frame.name);
      if (!child) {
        child = { name: frame.name, value: 0, locations: [], children: [] };
        node.children.push(child);
      }
      child.value += weight;
      if (frame.location) {
        let counts = locationCounts.get(child);
        if (!counts) locationCounts.set(child, (counts = new Map()));
        counts.set(frame.location, (counts.get(frame.location) ?? 0) + weight);
      }
      node = child;
    }
  });
  for (const [node, counts] of locationCounts) {
    node.locations = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8);
  }
  return root;
}

/** Innermost-first text lines of a stack: "#0 leaf (src/app.c:3)", ending at main (libc's start-up frames add nothing). */
export function stackLines(frames: Frame[]): string[] {
  const main = frames.findIndex((f) => f.symbol === 'main');
  const shown = main >= 0 ? frames.slice(0, main + 1) : frames;
  return shown.map((f, i) => {
    const name = f.symbol ?? '??';
    const where = frameLocation(f) ?? (f.module ? `${f.module}+${f.offset ?? '?'}` : f.pc);
    return `#${i} ${name}${f.inlined ? ' [inlined]' : ''} (${where})`;
  });
}
