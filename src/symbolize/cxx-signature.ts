/**
 * C++ parameter lists in hook specs, compared as gdb's linespec compares them: after normalizing the
 * spelling of each type, so `(const char*)`, `(const char *)` and `(char const*)` are one list, as are
 * `unsigned` and `unsigned int`, `long int` and `long`, `long unsigned int` and `unsigned long`.
 * Type names themselves are compared as written (gdb wants `tinyxml2::XMLDocument const&`, not
 * `XMLDocument const&`, for a parameter of that type), and so are the method's qualifiers
 * (`FindAttribute(char const*)` is not `FindAttribute(char const*) const`).
 */

export interface CxxSignature {
  /** The function name before the list: `tinyxml2::XMLElement::FindAttribute`. */
  name: string;
  /** The normalized parameter list with its qualifiers: `(char const*) const`. */
  signature: string;
}

const BUILTIN_WORDS = new Set(['unsigned', 'signed', 'short', 'long', 'int', 'char', 'bool', 'float', 'double', 'void', 'wchar_t', 'char8_t', 'char16_t', 'char32_t', '__int128']);
const CV = new Set(['const', 'volatile']);

/** A builtin type named by several words, in the demangler's spelling (`long unsigned int` -> `unsigned long`). */
function builtin(words: string[]): string {
  const count = (w: string) => words.filter((x) => x === w).length;
  const longs = count('long');
  const unsigned = words.includes('unsigned');
  const signed = words.includes('signed');
  if (words.includes('char')) return unsigned ? 'unsigned char' : signed ? 'signed char' : 'char';
  if (words.includes('__int128')) return unsigned ? 'unsigned __int128' : '__int128';
  if (words.includes('double')) return longs ? 'long double' : 'double';
  const other = words.find((w) => w !== 'unsigned' && w !== 'signed' && w !== 'short' && w !== 'long' && w !== 'int');
  if (other) return other;
  const base = words.includes('short') ? 'short' : longs >= 2 ? 'long long' : longs === 1 ? 'long' : 'int';
  return unsigned ? `unsigned ${base}` : base;
}

/** Index of the `(` that opens the trailing parameter list of `s` (then only qualifiers follow), or -1; `K::operator()` has none. */
function parameterListStart(s: string): number {
  const end = /\)\s*(?:(?:const|volatile|&&|&)\s*)*$/.exec(s);
  if (!end) return -1;
  let depth = 0;
  for (let i = end.index; i >= 0; i--) {
    if (s[i] === ')') depth++;
    else if (s[i] === '(' && --depth === 0) return /operator\s*$/.test(s.slice(0, i)) && /^\(\s*\)/.test(s.slice(i)) ? -1 : i;
  }
  return -1;
}

function splitTopLevel(list: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === '<' || c === '(' || c === '[') depth++;
    else if (c === '>' || c === ')' || c === ']') depth--;
    else if (c === ',' && depth === 0) {
      out.push(list.slice(start, i));
      start = i + 1;
    }
  }
  out.push(list.slice(start));
  return out.map((s) => s.trim()).filter((s, i, all) => s !== '' || all.length > 1);
}

const CHAR_TYPEDEFS: Record<string, string> = { char: 'string', wchar_t: 'wstring', char8_t: 'u8string', char16_t: 'u16string', char32_t: 'u32string' };

/**
 * The standard library's string typedefs, as gdb's linespec expands typedefs: `std::string const&`
 * names the parameter the demangler spells `std::__cxx11::basic_string<char, std::char_traits<char>,
 * std::allocator<char> > const&`. Both sides of a comparison get this one spelling (either ABI).
 */
function standardTypedefs(type: string): string {
  if (!type.includes('std::')) return type;
  return type
    .replace(/std::__cxx11::/g, 'std::')
    .replace(/\s*([<,])\s*/g, '$1')
    .replace(/\s+>/g, '>')
    .replace(/std::basic_string<(char|wchar_t|char8_t|char16_t|char32_t),std::char_traits<\1>,std::allocator<\1>>/g, (_, c: string) => `std::${CHAR_TYPEDEFS[c]}`)
    .replace(/std::basic_string_view<(char|wchar_t|char8_t|char16_t|char32_t),std::char_traits<\1>>/g, (_, c: string) => `std::${CHAR_TYPEDEFS[c]}_view`);
}

/** One parameter type in one spelling: cv-qualifiers after the type they qualify, `*`/`&` without spaces. */
export function normalizeType(type: string): string {
  const t = standardTypedefs(type.replace(/\s+/g, ' ').trim());
  // function pointers, arrays and the like keep their spelling, with spaces around punctuation removed
  const declStart = t.search(/[*&([]/);
  const head = declStart < 0 ? t : t.slice(0, declStart);
  const tail = declStart < 0 ? '' : t.slice(declStart);
  if (/[([]/.test(tail)) return t.replace(/\s*([*&(),[\]])\s*/g, '$1').replace(/,/g, ', ');
  const words = head.trim().split(' ').filter((w) => w !== '');
  const cv = words.filter((w) => CV.has(w));
  const rest = words.filter((w) => !CV.has(w));
  const base = rest.every((w) => BUILTIN_WORDS.has(w)) && rest.length > 0 ? builtin(rest) : rest.join(' ').replace(/\s*([<>,])\s*/g, (_, p: string) => (p === ',' ? ', ' : p));
  let out = base + (cv.includes('const') ? ' const' : '') + (cv.includes('volatile') ? ' volatile' : '');
  for (const tok of tail.match(/&&|[*&]|const|volatile/g) ?? []) out += tok === 'const' || tok === 'volatile' ? ' ' + tok : tok;
  return out;
}

/** `text` split into name and normalized `(params) quals`, or null when it has no parameter list. */
export function parseCxxSignature(text: string): CxxSignature | null {
  const open = parameterListStart(text.trim());
  if (open <= 0) return null;
  const s = text.trim();
  let depth = 0;
  let close = -1;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0) {
      close = i;
      break;
    }
  }
  if (close < 0) return null;
  const params = splitTopLevel(s.slice(open + 1, close)).map(normalizeType);
  // `f(void)` is `f()`
  const list = params.length === 1 && params[0] === 'void' ? [] : params;
  const quals = (s.slice(close + 1).match(/&&|&|const|volatile/g) ?? []).sort().join(' ');
  return { name: s.slice(0, open).trim(), signature: `(${list.join(', ')})${quals ? ' ' + quals : ''}` };
}
