/**
 * Capture warnings (a module never loaded, an IFUNC symbol, missing debug info, ...) gathered
 * once per test file, for the Jest console and the reports.
 */
import type { Capture } from '../capture/types';

export interface FileWarning {
  text: string;
  /** How many traced runs of the file gave this warning. */
  runs: number;
}

/** Distinct warnings of some captures, in order of first appearance, with the number of runs that gave each. */
export function collectWarnings(captures: Iterable<Capture>): FileWarning[] {
  const byText = new Map<string, FileWarning>();
  for (const capture of captures) {
    for (const text of new Set(capture.warnings ?? [])) {
      const seen = byText.get(text);
      if (seen) seen.runs++;
      else byText.set(text, { text, runs: 1 });
    }
  }
  return [...byText.values()];
}

/** The console block printed once per test file, or '' when there is nothing to say. */
export function formatFileWarnings(file: string, warnings: FileWarning[]): string {
  if (!warnings.length) return '';
  const lines = [`  ● jest-ustack warning${warnings.length === 1 ? '' : 's'} in ${file}:`, ''];
  for (const w of warnings) {
    const runs = w.runs > 1 ? ` (${w.runs} traced runs)` : '';
    lines.push(`    ${w.text.split('\n').join('\n      ')}${runs}`);
  }
  return lines.join('\n') + '\n\n';
}
