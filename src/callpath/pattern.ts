/**
 * Call-path patterns: ` > `-separated steps, `*` = exactly one frame, `**` = any number of
 * frames (0+), globs (`*`, `?`) inside names (`parse_*`). Anchored at both ends. Steps are split
 * like stored paths (split.ts), so `calc::make_node<*>` and `calc::operator>` are one step each.
 *
 * Template arguments: a step without them (`calc::make_node`) matches the function whatever its
 * arguments, with or without `normalize.stripTemplateArgs`. A step with them (`calc::make_node<*>`,
 * `calc::make_node<calc::BinOp, *>`) is matched against the frame's name with its arguments, which
 * a run keeps even when its printed call paths drop them; on a list of printed paths without
 * arguments (run.callPaths() by default) they cannot be checked, and only the name is compared.
 */
import { InvalidCallPathPatternError } from '../errors';
import { hasTemplateArgs, scanCallPath, stripTemplateArgs } from './split';

interface NameTest {
  text: string;
  regex: RegExp | null;
}

export type PatternToken =
  | { kind: 'any'; text: '**' }
  | { kind: 'one'; text: '*' }
  | {
      kind: 'name';
      text: string;
      regex: RegExp | null;
      /** The step without its template arguments, when it has some. */
      bare: NameTest | null;
    };

/** A frame to match: its printed name, and (when known) the same name with template arguments. */
export type FrameName = string | { name: string; withArgs?: string };

export function frameNameText(frame: FrameName): string {
  return typeof frame === 'string' ? frame : frame.name;
}

function globToRegExp(glob: string): RegExp | null {
  if (!/[*?]/.test(glob)) return null;
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

function nameTest(text: string): NameTest {
  return { text, regex: globToRegExp(text) };
}

function passes(test: NameTest, name: string): boolean {
  return test.regex ? test.regex.test(name) : test.text === name;
}

export class CallPathPattern {
  readonly source: string;
  readonly tokens: readonly PatternToken[];

  constructor(source: string) {
    if (typeof source !== 'string') throw new InvalidCallPathPatternError(String(source), `a pattern is a string, got ${source === null ? 'null' : typeof source}`);
    this.source = source;
    const scanned = scanCallPath(source.trim());
    if (scanned.parts.some((p) => p === '')) {
      throw new InvalidCallPathPatternError(source, 'it has an empty step (two ">" in a row, or ">" at an end)');
    }
    if (!scanned.balanced) {
      throw new InvalidCallPathPatternError(source, 'a "<", "(", "[" or "{" is never closed (write template arguments whole, e.g. "calc::make_node<*>")');
    }
    this.tokens = scanned.parts.map((text): PatternToken => {
      if (text === '**') return { kind: 'any', text };
      if (text === '*') return { kind: 'one', text };
      const test = nameTest(text);
      return { kind: 'name', ...test, bare: hasTemplateArgs(text) ? nameTest(stripTemplateArgs(text)) : null };
    });
  }

  /** Some step has template arguments, so frames' names with arguments matter (FrameName objects). */
  get checksTemplateArgs(): boolean {
    return this.tokens.some((t) => t.kind === 'name' && t.bare !== null);
  }

  /** Whether one name token (or `*`) accepts a frame. `**` accepts anything. */
  static tokenAccepts(token: PatternToken, frame: FrameName): boolean {
    if (token.kind !== 'name') return true;
    const name = frameNameText(frame);
    const withArgs = typeof frame === 'string' ? undefined : frame.withArgs;
    if (token.bare) {
      if (withArgs !== undefined) return passes(token, withArgs);
      // a printed name without arguments: they cannot be checked
      return hasTemplateArgs(name) ? passes(token, name) : passes(token.bare, name);
    }
    return passes(token, name) || (name.includes('<') && passes(token, stripTemplateArgs(name)));
  }

  /** Whether the whole caller-first path matches the pattern. */
  matches(path: readonly FrameName[]): boolean {
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
