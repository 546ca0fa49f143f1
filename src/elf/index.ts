export { ElfFile, openElfCached } from './elf-file';
export type { ElfSection, LoadSegment, RawSection, ElfKind } from './elf-file';
export { SymbolTable } from './symbol-table';
export type { ElfSymbol } from './symbol-table';
export { findSeparateDebugFile, debugLinkCrc } from './debuginfo';
export type { DebugFileOptions } from './debuginfo';
