/**
 * Hook specs as users write them: "func", "func@libc.so.6", "func@/abs/lib.so", globs
 * ("parse_*", "str?cmp", "[a-c]*"), and C++/Rust names ("ns::Klass::method").
 */
import { InvalidHookError } from '../errors';
import { parseCxxSignature } from './cxx-signature';

export interface HookSpec {
  /** The spec as given (trimmed). */
  text: string;
  /** Function name or glob. */
  pattern: string;
  /** Module name or path after '@', or null for "the executable, then its libraries". */
  module: string | null;
}

export function parseHookSpec(text: string): HookSpec {
  const trimmed = text.trim();
  if (trimmed === '') throw new InvalidHookError(text, 'the spec is empty');
  if (/[\0-\x1f\x7f]/.test(trimmed)) throw new InvalidHookError(text, 'it contains a control character');
  // Split at the first '@': names never contain one, module paths may (node_modules/@scope/...).
  const at = trimmed.indexOf('@');
  const pattern = (at < 0 ? trimmed : trimmed.slice(0, at)).trim();
  const module = at < 0 ? null : trimmed.slice(at + 1).trim();
  if (pattern === '') throw new InvalidHookError(text, 'there is no function name before "@"');
  if (module === '') throw new InvalidHookError(text, 'there is no module name after "@"');
  if (module !== null && module.includes('/') && !module.startsWith('/')) {
    throw new InvalidHookError(text, `the module "${module}" is a relative path; give a basename (libfoo.so) or an absolute path`);
  }
  const unbalanced = unbalancedParenthesis(pattern);
  if (unbalanced) throw new InvalidHookError(text, unbalanced);
  return { text: trimmed, pattern: canonicalTemplateSpelling(pattern), module };
}

/** Why the parentheses of a parameter list do not pair up (gdb: "malformed"), or null. */
function unbalancedParenthesis(pattern: string): string | null {
  let depth = 0;
  for (const c of pattern) {
    if (c === '(') depth++;
    else if (c === ')' && --depth < 0) return 'it has a ")" that closes nothing';
  }
  return depth > 0 ? 'its parameter list has no closing ")"' : null;
}

/**
 * Template argument lists in the demangler's and gdb's spelling, which the names compared with
 * a spec use: `make<Circle,double>` is `make<Circle, double>`, `vector<int, allocator<int>>` is
 * `vector<int, allocator<int> >` (operator names are left alone).
 */
export function canonicalTemplateSpelling(pattern: string): string {
  if (!pattern.includes('<') || /\boperator\b/.test(pattern)) return pattern;
  let out = '';
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '<') depth++;
    if (c === '>' && depth > 0) {
      depth--;
      out = out.replace(/\s+$/, '');
      if (out.endsWith('>')) out += ' ';
      out += '>';
      continue;
    }
    if (depth > 0 && c === ',') {
      out = out.replace(/\s+$/, '') + ', ';
      while (pattern[i + 1] === ' ') i++;
      continue;
    }
    out += c;
  }
  return out;
}

/** True when the pattern has glob characters (* ? or a closed [...] class). */
export function isGlob(pattern: string): boolean {
  return globToRegExp(pattern) !== null;
}

/**
 * The glob as an anchored RegExp, or null when the pattern has no glob characters.
 * A '[' without a closing ']' is literal, so C++ names like "operator[]" stay plain names.
 */
export function globToRegExp(pattern: string): RegExp | null {
  // `*` and `&` in a C++ parameter list are types (`f(const char*)`): only the name can be a glob
  const signature = pattern.includes('(') ? parseCxxSignature(pattern) : null;
  if (signature) return globToRegExp(signature.name);
  let re = '';
  let glob = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') {
      re += '.*';
      glob = true;
    } else if (c === '?') {
      re += '.';
      glob = true;
    } else if (c === '[') {
      const close = classEnd(pattern, i);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      let negate = false;
      if (body[0] === '!' || body[0] === '^') {
        negate = true;
        body = body.slice(1);
      }
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      glob = true;
      i = close;
    } else {
      re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
    }
  }
  return glob ? new RegExp(`^${re}$`) : null;
}

/** Index of the ']' closing a class opened at `open`, or -1 ("[]...]" and "[!]...]" include a literal ']'). */
function classEnd(pattern: string, open: number): number {
  let i = open + 1;
  if (pattern[i] === '!' || pattern[i] === '^') i++;
  if (pattern[i] === ']') i++;
  const close = pattern.indexOf(']', i);
  return close;
}

/** `ns::twice<int>` -> `ns::twice`, `Stack<int>::push` -> `Stack::push` (operators are left alone). */
export function withoutTemplateArgs(name: string): string {
  if (/\boperator\b/.test(name)) return name;
  let out = '';
  let depth = 0;
  for (const c of name) {
    if (c === '<') depth++;
    else if (c === '>') depth = Math.max(0, depth - 1);
    else if (depth === 0) out += c;
  }
  return out;
}

/** `a::b<c::d>::e` -> ['a', 'b<c::d>', 'e'] (splits only at top-level `::`). */
export function splitQualified(name: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name[i];
    if (c === '<' || c === '(') depth++;
    else if ((c === '>' || c === ')') && depth > 0) depth--;
    else if (c === ':' && name[i + 1] === ':' && depth === 0) {
      parts.push(name.slice(start, i));
      start = i + 2;
      i++;
    }
  }
  parts.push(name.slice(start));
  return parts;
}

/**
 * True when the glob matches `name` or its trailing `::` components, as a plain name matches them
 * (`XMLPrinter::Visit*` and `Visit*` match `tinyxml2::XMLPrinter::VisitEnter`).
 */
export function globMatchesName(glob: RegExp, name: string): boolean {
  if (glob.test(name)) return true;
  if (!name.includes('::')) return false;
  const parts = splitQualified(name);
  for (let i = 1; i < parts.length; i++) if (glob.test(parts.slice(i).join('::'))) return true;
  return false;
}

/** Integer template arguments without their type suffix: `Pool<104ul>` -> `Pool<104>`. */
function plainLiterals(s: string): string {
  return s.replace(/([<,]\s*-?\d+)(?:ull|ul|ll|u|l)(?=\s*[,>])/gi, '$1');
}

/** True when `pattern` equals `name` or is its trailing `::` components (gdb's wild matching). */
export function wildMatch(name: string, pattern: string): boolean {
  if (name === pattern) return true;
  // a template value argument as gdb also knows it, from DWARF without the literal's suffix: `MemPoolT<104>` is `MemPoolT<104ul>`
  if (pattern.includes('<') && /\d/.test(pattern) && name.includes('<')) {
    const n = plainLiterals(name);
    if (n !== name) return wildMatch(n, pattern);
  }
  if (!name.endsWith('::' + pattern)) return false;
  const parts = splitQualified(name);
  const want = splitQualified(pattern);
  return parts.length > want.length && parts.slice(parts.length - want.length).join('::') === pattern;
}

