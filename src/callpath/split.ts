/**
 * Reading C++/Rust names and call paths character by character: where an operator name ends
 * (`operator>>`, `operator->`, `operator()`), which `<`/`>` are brackets, and so which `>` of a
 * call path (`main > std::vector<int, std::allocator<int> > > calc::operator> > leaf`) separate
 * frames. Patterns, stored path lines and template stripping all use this one reader.
 */

const OPERATOR_TOKENS = [
  '->*', '<<=', '>>=', '<=>', '()', '[]', '->', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '++', '--',
  '+=', '-=', '*=', '/=', '%=', '^=', '&=', '|=', '+', '-', '*', '/', '%', '^', '&', '|', '~', '!', '=', '<', '>', ',',
];
const WORD_OPERATORS = /^(new|delete)(\s*\[\])?|^co_await|^""\s*\w*/;

function isIdentChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_$]/.test(c);
}

/**
 * Length of an operator function name starting at `at` (`operator>` → 9, `operator new[]`,
 * `operator""_km`), 0 when none starts there. A conversion operator (`operator bool`) counts
 * only the keyword and the spaces after it: its type is read as ordinary name text.
 */
export function operatorNameLength(text: string, at: number): number {
  if (!text.startsWith('operator', at) || isIdentChar(text[at - 1])) return 0;
  let j = at + 8;
  if (isIdentChar(text[j]) && !/^(new|delete|co_await)\b/.test(text.slice(j))) return 0; // `operator_x`, `operators`
  while (text[j] === ' ') j++;
  const word = WORD_OPERATORS.exec(text.slice(j));
  if (word) return j + word[0].length - at;
  for (const op of OPERATOR_TOKENS) if (text.startsWith(op, j)) return j + op.length - at;
  return j - at;
}

const OPENERS = '<([{';
const CLOSERS = '>)]}';

export interface ScannedPath {
  /** The frames (or pattern steps), trimmed; empty strings where two separators meet. */
  parts: string[];
  /** Every `<`, `(`, `[`, `{` outside operator names was closed. */
  balanced: boolean;
}

/**
 * Splits a call path or pattern at its separators: every `>` outside brackets that is not part
 * of an operator name or a `->` arrow (` > ` as printed; `a>b` is read the same way).
 */
export function scanCallPath(text: string): ScannedPath {
  const parts: string[] = [];
  const open: string[] = [];
  let start = 0;
  let i = 0;
  while (i < text.length) {
    const op = operatorNameLength(text, i);
    if (op > 0) {
      i += op;
      continue;
    }
    const c = text[i];
    if (c === '-' && text[i + 1] === '>') {
      i += 2; // Rust `fn() -> T`
      continue;
    }
    if (OPENERS.includes(c)) open.push(c);
    else if (CLOSERS.includes(c)) {
      const top = open[open.length - 1];
      if (top !== undefined && OPENERS.indexOf(top) === CLOSERS.indexOf(c)) open.pop();
      else if (c === '>' && top === undefined) {
        parts.push(text.slice(start, i).trim());
        start = i + 1;
      } // else a `>` inside (...) such as `f<(1>0)>` is a character of the name
    }
    i++;
  }
  parts.push(text.slice(start).trim());
  return { parts, balanced: open.length === 0 };
}

/**
 * The frames of a printed call path (`main > a<b> > c`). An unbalanced line (not one this package
 * printed) falls back to splitting at every ` > `.
 */
export function splitCallPath(text: string): string[] {
  if (!text.trim()) return [];
  const scanned = scanCallPath(text);
  return scanned.balanced ? scanned.parts : text.split(' > ').map((s) => s.trim());
}

/**
 * A name without its template (and Rust generic) arguments: `calc::make_node<calc::BinOp, char&>`
 * → `calc::make_node`, `std::vector<int, std::allocator<int> >::push_back` → `std::vector::push_back`,
 * `calc::operator< <int>` → `calc::operator<`, `core::mem::drop::<u8>` → `core::mem::drop`.
 * Kept: operator names, a leading Rust qualified path (`<T as Trait>::f`, arguments inside it
 * stripped), and anything inside parameter lists, lambdas and `[clone ...]` brackets.
 */
export function stripTemplateArgs(name: string): string {
  if (!name.includes('<')) return name;
  let out = '';
  let i = 0;
  if (name[0] === '<') {
    const close = closingAngle(name, 0);
    if (close > 0) {
      out = '<' + stripTemplateArgs(name.slice(1, close)) + '>';
      i = close + 1;
    }
  }
  let depth = 0;
  while (i < name.length) {
    const op = operatorNameLength(name, i);
    if (op > 0) {
      out += name.slice(i, i + op);
      i += op;
      if (depth === 0) {
        // `operator< <int>`: the space before the arguments goes with them
        let j = i;
        while (name[j] === ' ') j++;
        if (name[j] === '<' && j > i) {
          const close = closingAngle(name, j);
          if (close > 0) i = close + 1;
        }
      }
      continue;
    }
    const c = name[i];
    if (c === '-' && name[i + 1] === '>') {
      out += '->';
      i += 2;
      continue;
    }
    if (c === '<' && depth === 0) {
      const close = closingAngle(name, i);
      if (close > 0) {
        if (out.endsWith('::')) out = out.slice(0, -2); // Rust turbofish `f::<T>`
        i = close + 1;
        continue;
      }
    }
    if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c) && depth > 0) depth--;
    out += c;
    i++;
  }
  return out;
}

/** Index of the `>` closing the `<` at `open`, or -1 when it is not closed. */
function closingAngle(text: string, at: number): number {
  const open: string[] = [];
  let i = at;
  while (i < text.length) {
    const op = i > at ? operatorNameLength(text, i) : 0;
    if (op > 0) {
      i += op;
      continue;
    }
    const c = text[i];
    if (c === '-' && text[i + 1] === '>') {
      i += 2;
      continue;
    }
    if (OPENERS.includes(c)) open.push(c);
    else if (CLOSERS.includes(c) && OPENERS.indexOf(open[open.length - 1]) === CLOSERS.indexOf(c)) {
      open.pop();
      if (open.length === 0) return i;
    }
    i++;
  }
  return -1;
}

/** Whether a name carries template (or generic) arguments that stripTemplateArgs would remove. */
export function hasTemplateArgs(name: string): boolean {
  return name.includes('<') && stripTemplateArgs(name) !== name;
}
