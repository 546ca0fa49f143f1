/**
 * Call-path patterns: ` > `-separated tokens, `*` = exactly one frame, `**` = any number of
 * frames (0+), globs (`*`, `?`) inside names (`parse_*`). Anchored at both ends.
 */
import { InvalidCallPathPatternError } from '../errors';
import { CALL_PATH_SEPARATOR } from './merge';

export type PatternToken =
  | { kind: 'any'; text: '**' }
  | { kind: 'one'; text: '*' }
  | { kind: 'name'; text: string; regex: RegExp | null };

function globToRegExp(glob: string): RegExp | null {
  if (!/[*?]/.test(glob)) return null;
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

export class CallPathPattern {
  readonly source: string;
  readonly tokens: readonly PatternToken[];

  constructor(source: string) {
    if (typeof source !== 'string') throw new InvalidCallPathPatternError(String(source), 'a pattern is a string');
    this.source = source;
    const parts = source.trim().split(CALL_PATH_SEPARATOR.trim()).map((p) => p.trim());
    if (parts.some((p) => p === '')) {
      throw new InvalidCallPathPatternError(source, 'it has an empty step (two ">" in a row, or ">" at an end)');
    }
    this.tokens = parts.map((text): PatternToken => {
      if (text === '**') return { kind: 'any', text };
      if (text === '*') return { kind: 'one', text };
      return { kind: 'name', text, regex: globToRegExp(text) };
    });
  }

  /** Whether one name token (or `*`) accepts a frame name. `**` accepts anything. */
  static tokenAccepts(token: PatternToken, name: string): boolean {
    if (token.kind !== 'name') return true;
    return token.regex ? token.regex.test(name) : token.text === name;
  }

  /** Whether the whole caller-first path matches the pattern. */
  matches(path: readonly string[]): boolean {
    const tokens = this.tokens;
    // reachable[j]: the first i tokens can consume the first j frames.
    let reachable = new Array<boolean>(path.length + 1).fill(false);
    reachable[0] = true;
    for (const token of tokens) {
      const next = new Array<boolean>(path.length + 1).fill(false);
      for (let j = 0; j <= path.length; j++) {
        if (token.kind === 'any') next[j] = reachable[j] || (j > 0 && next[j - 1]);
        else next[j] = j > 0 && reachable[j - 1] && CallPathPattern.tokenAccepts(token, path[j - 1]);
      }
      reachable = next;
    }
    return reachable[path.length];
  }

  toString(): string {
    return this.source;
  }
}
