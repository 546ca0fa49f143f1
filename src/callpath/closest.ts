/**
 * Which captured call paths come closest to a pattern that matched none: an edit-distance
 * alignment where `**` absorbs any frames for free, `*` and names match one frame, and every
 * missing, extra or different frame costs 1. Failure messages show the best ones as a diff.
 */
import { CallPathPattern, frameNameText, type FrameName, type PatternToken } from './pattern';

export type AlignmentStep =
  | { op: 'match'; token: PatternToken; frame: string }
  | { op: 'substitute'; token: PatternToken; frame: string }
  | { op: 'missing'; token: PatternToken }
  | { op: 'extra'; frame: string };

export interface Alignment {
  cost: number;
  steps: AlignmentStep[];
}

/** Minimum-cost alignment of a pattern against one caller-first path. */
/** One edit; a frame absorbed by `**` costs 1/EDIT, so among equal edits the fewest absorbed frames win. */
const EDIT = 10000;

export function alignPattern(pattern: CallPathPattern, path: readonly FrameName[]): Alignment {
  const tokens = pattern.tokens;
  const n = tokens.length;
  const m = path.length;
  const cost: number[][] = [];
  for (let i = 0; i <= n; i++) cost.push(new Array<number>(m + 1).fill(Infinity));
  cost[0][0] = 0;
  for (let i = 0; i <= n; i++) {
    for (let j = 0; j <= m; j++) {
      if (i === 0 && j === 0) continue;
      let best = Infinity;
      const token = i > 0 ? tokens[i - 1] : null;
      if (token && j > 0 && token.kind !== 'any') {
        best = Math.min(best, cost[i - 1][j - 1] + (CallPathPattern.tokenAccepts(token, path[j - 1]) ? 0 : EDIT));
      }
      if (token) best = Math.min(best, cost[i - 1][j] + (token.kind === 'any' ? 0 : EDIT));
      if (j > 0) best = Math.min(best, cost[i][j - 1] + (token && token.kind === 'any' ? 1 : EDIT));
      cost[i][j] = best;
    }
  }
  const steps: AlignmentStep[] = [];
  let i = n;
  let j = m;
  while (i > 0 || j > 0) {
    const token = i > 0 ? tokens[i - 1] : null;
    const here = cost[i][j];
    const any = token !== null && token.kind === 'any';
    if (token && !any && j > 0 && CallPathPattern.tokenAccepts(token, path[j - 1]) && cost[i - 1][j - 1] === here) {
      steps.push({ op: 'match', token, frame: frameNameText(path[j - 1]) });
      i--;
      j--;
    } else if (any && j > 0 && cost[i][j - 1] + 1 === here) {
      steps.push({ op: 'match', token: token!, frame: frameNameText(path[j - 1]) });
      j--;
    } else if (any && cost[i - 1][j] === here) {
      i--;
    } else if (j > 0 && !any && cost[i][j - 1] + EDIT === here) {
      steps.push({ op: 'extra', frame: frameNameText(path[j - 1]) });
      j--;
    } else if (token && !any && cost[i - 1][j] + EDIT === here) {
      steps.push({ op: 'missing', token });
      i--;
    } else {
      steps.push({ op: 'substitute', token: token!, frame: frameNameText(path[j - 1]) });
      i--;
      j--;
    }
  }
  steps.reverse();
  return { cost: Math.floor(cost[n][m] / EDIT), steps };
}

export interface RankedPath<T> {
  item: T;
  alignment: Alignment;
}

/** Candidates ordered by alignment cost, then by ending in the pattern's last function, then original order. */
export function rankClosestPaths<T>(pattern: CallPathPattern, candidates: readonly T[], pathOf: (item: T) => readonly FrameName[]): RankedPath<T>[] {
  const last = pattern.tokens[pattern.tokens.length - 1];
  // among equally close paths, prefer one that ends in the function the pattern ends in (the hooked one)
  const endsElsewhere = (path: readonly FrameName[]) => (path.length && CallPathPattern.tokenAccepts(last, path[path.length - 1]) ? 0 : 1);
  return candidates
    .map((item, index) => ({ item, index, alignment: alignPattern(pattern, pathOf(item)), end: endsElsewhere(pathOf(item)) }))
    .sort((a, b) => a.alignment.cost - b.alignment.cost || a.end - b.end || a.index - b.index)
    .map(({ item, alignment }) => ({ item, alignment }));
}

/**
 * Two line lists for a line diff: frames a wildcard or name matched appear on both sides
 * (so only real differences are marked), missing steps only on the expected side, extra
 * frames only on the received side.
 */
export function alignmentDiffLines(alignment: Alignment): { expected: string[]; received: string[] } {
  const expected: string[] = [];
  const received: string[] = [];
  for (const step of alignment.steps) {
    if (step.op === 'match') {
      expected.push(step.frame);
      received.push(step.frame);
    } else if (step.op === 'substitute') {
      expected.push(step.token.text);
      received.push(step.frame);
    } else if (step.op === 'missing') expected.push(step.token.text);
    else received.push(step.frame);
  }
  return { expected, received };
}
