/**
 * What the DWARF readers need from an object file: a section's (already decompressed) bytes
 * and its link-time address. ElfFile satisfies it; tests may pass anything with this shape.
 */
export interface DebugSections {
  section(name: string): { data: Buffer; address: number } | null;
}
