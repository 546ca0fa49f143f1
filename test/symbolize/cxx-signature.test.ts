/**
 * C++ parameter lists in hook specs, normalized as gdb's linespec compares them. The same
 * lists against gdb's `break` on a real program are in gdb-names.test.ts; here, the spellings.
 */
import { demangle } from '../../src/symbolize/demangle';
import { normalizeType, parseCxxSignature } from '../../src/symbolize/cxx-signature';

test('one type in every spelling gdb accepts is one normalized type, the demangler\'s', () => {
  const same: [string[], string][] = [
    [['const char*', 'const char *', 'char const*', 'char const *', ' const  char * '], 'char const*'],
    [['unsigned', 'unsigned int', 'int unsigned'], 'unsigned int'],
    [['long', 'long int', 'signed long', 'long signed int'], 'long'],
    [['unsigned long', 'long unsigned int', 'unsigned long int'], 'unsigned long'],
    [['long long', 'long long int'], 'long long'],
    [['short', 'short int', 'signed short int'], 'short'],
    [['const std::string &', 'std::string const&', 'std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&', 'const std::basic_string<char,std::char_traits<char>,std::allocator<char>>&'], 'std::string const&'],
    [['std::wstring', 'std::__cxx11::basic_string<wchar_t, std::char_traits<wchar_t>, std::allocator<wchar_t> >'], 'std::wstring'],
    [['std::string_view', 'std::basic_string_view<char, std::char_traits<char> >'], 'std::string_view'],
    [['char * const', 'char* const'], 'char* const'],
    [['int&&', 'int &&'], 'int&&'],
  ];
  for (const [spellings, want] of same) for (const t of spellings) expect([t, normalizeType(t)]).toEqual([t, want]);
});

test('a spec\'s list equals the demangled symbol\'s list; qualifiers count; no list, no signature', () => {
  const fromSymbol = parseCxxSignature(demangle('_ZNK8tinyxml210XMLElement13FindAttributeEPKc'))!;
  expect(fromSymbol).toEqual({ name: 'tinyxml2::XMLElement::FindAttribute', signature: '(char const*) const' });
  expect(parseCxxSignature('tinyxml2::XMLElement::FindAttribute(const char *) const')).toEqual(fromSymbol);
  expect(parseCxxSignature('tinyxml2::XMLElement::FindAttribute(const char *)')!.signature).not.toBe(fromSymbol.signature);
  expect(parseCxxSignature('f(void)')).toEqual({ name: 'f', signature: '()' });
  expect(parseCxxSignature('K::operator()(int) const')).toEqual({ name: 'K::operator()', signature: '(int) const' });
  expect(parseCxxSignature('K::operator()')).toBeNull();
  expect(parseCxxSignature('tinyxml2::XMLElement::FindAttribute')).toBeNull();
});
