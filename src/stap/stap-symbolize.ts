/**
 * Finishes stap's frames with our own symbolizer (file:line, inline frames, demangled names),
 * so both backends produce identical call paths. stap does not print load addresses, so each
 * module's bias is rebuilt from a frame with a known link-time offset (pc - offset), and the
 * module map is synthesized from the module's PT_LOAD segments at that bias.
 */
import type { Frame } from '../capture/types';
import { openElfCached } from '../elf';
import { ModuleMap } from '../symbolize/module-map';
import type { Mapping } from '../symbolize/process-maps';
import { Symbolizer } from '../symbolize/symbolizer';
import { framesFromStap, moduleOffsetOf } from './raw-frames';
import type { RawStapFrame } from './record-parser';

const PAGE = 0x1000;

function mappingsAt(module: string, bias: number): Mapping[] {
  try {
    return openElfCached(module).loadSegments.map((s) => {
      const start = bias + s.vaddr - (s.vaddr % PAGE);
      return {
        start,
        end: bias + s.vaddr + s.memsz,
        perms: `${s.flags & 4 ? 'r' : '-'}${s.flags & 2 ? 'w' : '-'}${s.flags & 1 ? 'x' : '-'}p`,
        offset: s.offset - (s.offset % PAGE),
        path: module,
      };
    });
  } catch {
    return [];
  }
}

/** A symbolize callback for recordWithStap backed by src/symbolize; keeps caches across hits. */
export function createStapSymbolizer(): { symbolize: (frames: RawStapFrame[]) => Frame[]; takeWarnings: () => string[] } {
  const symbolizer = new Symbolizer();
  const biases = new Map<string, number>(); // module -> bias (one address space per run is the common case)
  let map: ModuleMap | null = null;

  const symbolize = (frames: RawStapFrame[]): Frame[] => {
    let changed = false;
    for (const f of frames) {
      if (!f.module) continue;
      const offset = moduleOffsetOf(f);
      if (offset === null) continue;
      const bias = f.pc - offset;
      if (biases.get(f.module) !== bias) {
        biases.set(f.module, bias);
        changed = true;
      }
    }
    if (changed || !map) map = new ModuleMap([...biases].flatMap(([m, b]) => mappingsAt(m, b)));
    const pcs = new Float64Array(frames.map((f) => f.pc));
    // frame 0 is a probe at the function's entry (--prologue-searching=never), as at a ptrace breakpoint;
    // a probe inside a function (not at its symbol's start) is at an inlined copy: frame 0 is the inline frame
    const atInlineSite = (frames[0]?.symbolOffset ?? 0) !== 0;
    const out = symbolizer.stack(pcs, new Uint8Array(frames.length), map, !atInlineSite);
    // frames outside every known module keep what stap said about them
    return out.length ? out : framesFromStap(frames);
  };
  return { symbolize, takeWarnings: () => symbolizer.takeWarnings() };
}
