/**
 * Function-name normalization (README "Normalization"): the parts of a symbol that change
 * between builds or compilers without the call path changing are removed.
 */
import { operatorNameLength, stripTemplateArgs } from './split';

export interface NameOptions {
  /** `.constprop.0`, `.isra.0`, `.part.0`, `.cold`, `.lto_priv.0`, ` [clone .isra.0]`, `@plt`, `@GLIBC_2.2.5`. Default true. */
  stripCloneSuffixes?: boolean;
  /** Rust legacy-mangling hashes `::h0123456789abcdef`. Default true. */
  stripRustHash?: boolean;
  /** C++ parameter lists and trailing qualifiers: `ns::K::f(int) const` → `ns::K::f`. Default true. */
  stripCppParams?: boolean;
  /**
   * Template and generic arguments: `calc::make_node<calc::BinOp, char&>` → `calc::make_node`,
   * `std::vector<int, std::allocator<int> >::push_back` → `std::vector::push_back`. They change with
   * harmless edits (an lvalue instead of a temporary at a call site). Default true.
   */
  stripTemplateArgs?: boolean;
}

const CLONE_SUFFIX = /(\.(constprop|isra|part|cold|lto_priv|localalias)(\.\d+)*)+$/;
const DEMANGLED_CLONE = /( \[clone \.[^\]]*\])+$/;
const VERSION_OR_PLT = /@[@\w.]*$/;
const RUST_HASH = /::h[0-9a-f]{16}$/;
const TRAILING_QUALIFIERS_AFTER_PARAMS = /\)(\s+(const|volatile|&&|&|noexcept))+$/;

/**
 * Removes every parameter list at nesting depth 0 and a template function's return type
 * (`int ns::twice<int>(int)` → `ns::twice<int>`, `f(int)::{lambda(int)#1}::operator()(int) const`
 * → `f::{lambda(int)#1}::operator()`), keeping `(anonymous namespace)` and operator names.
 * The same result as `c++filt -p` on the demangled forms gcc produces.
 */
export function stripCppParameters(name: string): string {
  if (!/[( ]/.test(name)) return name;
  const clone = DEMANGLED_CLONE.exec(name);
  if (clone) return stripCppParameters(name.slice(0, clone.index)) + clone[0];
  const text = name.replace(TRAILING_QUALIFIERS_AFTER_PARAMS, ')');
  let out = '';
  let nameStart = 0;
  let depth = 0;
  let i = 0;
  while (i < text.length) {
    const op = operatorNameLength(text, i);
    if (op > 0) {
      out += text.slice(i, i + op);
      i += op;
      continue;
    }
    const c = text[i];
    if (c === '-' && text[i + 1] === '>') {
      out += '->'; // a Rust `fn() -> T` arrow, not the end of a template
      i += 2;
      continue;
    }
    if (c === '<' || c === '{' || c === '[') depth++;
    else if ((c === '>' || c === '}' || c === ']') && depth > 0) depth--;
    else if (c === '(' && depth === 0) {
      let parens = 0;
      let close = i;
      for (; close < text.length; close++) {
        if (text[close] === '(') parens++;
        else if (text[close] === ')' && --parens === 0) break;
      }
      const group = text.slice(i, close + 1);
      if (group === '(anonymous namespace)') out += group;
      i = close + 1;
      continue;
    } else if (c === ' ' && depth === 0 && text[i + 1] !== '<') {
      // a space at depth 0 ends a return type (`int ns::twice<int>`); `operator< <T>` keeps its space
      out += c;
      nameStart = out.length;
      i++;
      continue;
    }
    out += c;
    i++;
  }
  return out.slice(nameStart).trim() || out.trim();
}

/** The normalized name of a symbol; `??` for an unknown one. */
export function normalizeName(symbol: string | null | undefined, options: NameOptions = {}): string {
  if (!symbol) return '??';
  let name = symbol;
  if (options.stripCloneSuffixes !== false) {
    name = name.replace(DEMANGLED_CLONE, '').replace(VERSION_OR_PLT, '').replace(CLONE_SUFFIX, '');
  }
  if (options.stripRustHash !== false) name = name.replace(RUST_HASH, '');
  if (options.stripCppParams !== false) name = stripCppParameters(name);
  if (options.stripTemplateArgs !== false) name = stripTemplateArgs(name);
  return name || '??';
}
