/**
 * A debuginfod client (the protocol elfutils, gdb, perf and SystemTap speak): GET
 * <server>/buildid/<build-id>/debuginfo or /executable, stored where libdebuginfod stores it
 * (<cache>/<build-id>/debuginfo), so downloads are shared with those tools. An empty file there
 * is a negative answer (every server said 404), trusted for `cache_miss_s` seconds (default 600),
 * as libdebuginfod does. Servers are asked in parallel; the first good answer wins.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeAtomically } from '../cache-dir';
import type { DebuginfodSettings } from './debug-search';
import { ElfFile } from './elf-file';

export type DebuginfodArtifact = 'debuginfo' | 'executable';

export type DebuginfodOutcome =
  | { kind: 'found'; file: string; server: string | null; bytes: number }
  /** Every server answered 404 (now or within cache_miss_s). */
  | { kind: 'missing' }
  /** No server could answer: down, too slow, or it served a file of another build-id. */
  | { kind: 'failed'; detail: string };

export interface DownloadProgress {
  buildId: string;
  artifact: DebuginfodArtifact;
  /** The module the file is for (for messages). */
  module: string;
  server: string;
  received: number;
  total: number | null;
  done: boolean;
  /** With done: why nothing usable came (404, an error, a timeout); absent when the file came. */
  failed?: string;
}

const DEFAULT_CACHE_MISS_S = 600;

export class DebuginfodClient {
  constructor(
    readonly settings: DebuginfodSettings,
    private readonly onProgress?: (p: DownloadProgress) => void,
  ) {}

  /** Where the artifact is (or would be) cached. */
  cacheFile(buildId: string, artifact: DebuginfodArtifact): string {
    return path.join(this.settings.cachePath, buildId, artifact);
  }

  /** The cached file, 'negative' for a fresh negative answer, or null when the servers must be asked. */
  cached(buildId: string, artifact: DebuginfodArtifact): string | 'negative' | null {
    return cachedDebuginfod(this.settings, buildId, artifact);
  }

  /** The artifact from the cache or the servers. Never throws. */
  async fetch(buildId: string, artifact: DebuginfodArtifact, module = buildId): Promise<DebuginfodOutcome> {
    if (!/^[0-9a-f]{2,}$/.test(buildId)) return { kind: 'failed', detail: `"${buildId}" is not a build-id` };
    const hit = this.cached(buildId, artifact);
    if (hit === 'negative') return { kind: 'missing' };
    if (hit) return { kind: 'found', file: hit, server: null, bytes: fs.statSync(hit).size };
    const controllers = this.settings.urls.map(() => new AbortController());
    const attempts = this.settings.urls.map((url, i) => this.fromServer(url, buildId, artifact, module, controllers[i].signal));
    const answers: ServerAnswer[] = [];
    const winner = await new Promise<ServerAnswer | null>((resolve) => {
      let left = attempts.length;
      for (const a of attempts) {
        void a.then((answer) => {
          answers.push(answer);
          if (answer.kind === 'ok') resolve(answer);
          else if (--left === 0) resolve(null);
        });
      }
    });
    for (const c of controllers) c.abort();
    if (winner && winner.kind === 'ok') {
      const file = this.cacheFile(buildId, artifact);
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      writeAtomically(file, winner.data);
      return { kind: 'found', file, server: winner.server, bytes: winner.data.length };
    }
    if (answers.length && answers.every((a) => a.kind === 'absent')) {
      // the negative answer libdebuginfod writes: an empty file, trusted for cache_miss_s
      const file = this.cacheFile(buildId, artifact);
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        writeAtomically(file, '');
      } catch {
        /* an unwritable cache only costs a question next time */
      }
      return { kind: 'missing' };
    }
    return { kind: 'failed', detail: answers.map((a) => (a.kind === 'error' ? a.detail : a.kind === 'absent' ? `${a.server}: no such build-id (404)` : '')).filter(Boolean).join('; ') };
  }

  private async fromServer(server: string, buildId: string, artifact: DebuginfodArtifact, module: string, signal: AbortSignal): Promise<ServerAnswer> {
    const url = `${server}/buildid/${buildId}/${artifact}`;
    const timeoutMs = this.settings.timeoutSec * 1000;
    const idle = new AbortController();
    let timer: NodeJS.Timeout | null = null;
    let timedOut = false;
    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        idle.abort();
      }, timeoutMs);
    };
    const both = AbortSignal.any([signal, idle.signal]);
    arm();
    // a server slow to answer is announced like a slow download (DownloadReporter)
    this.onProgress?.({ buildId, artifact, module, server, received: 0, total: null, done: false });
    let answer: ServerAnswer | null = null;
    try {
      answer = await this.download(url, server, buildId, artifact, module, both, arm);
      return answer;
    } catch (e) {
      if (timedOut) answer = { kind: 'error', server, detail: `${server}: no answer within DEBUGINFOD_TIMEOUT=${this.settings.timeoutSec}s` };
      else {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        answer = { kind: 'error', server, detail: `${server}: ${cause?.code ?? cause?.message ?? (e as Error).message}` };
      }
      return answer;
    } finally {
      if (timer) clearTimeout(timer);
      if (answer?.kind === 'ok') this.onProgress?.({ buildId, artifact, module, server, received: answer.data.length, total: answer.data.length, done: true });
      else {
        const failed = answer?.kind === 'error' ? answer.detail : answer?.kind === 'absent' ? 'not on this server' : 'cancelled';
        this.onProgress?.({ buildId, artifact, module, server, received: 0, total: null, done: true, failed });
      }
    }
  }

  private async download(url: string, server: string, buildId: string, artifact: DebuginfodArtifact, module: string, signal: AbortSignal, arm: () => void): Promise<ServerAnswer> {
    {
      // (progress: received bytes as they come; the end is reported by fromServer)
      const res = await fetch(url, { signal, headers: { 'User-Agent': 'jest-ustack' } });
      if (res.status === 404) {
        await res.body?.cancel();
        return { kind: 'absent', server };
      }
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        return { kind: 'error', server, detail: `${server}: HTTP ${res.status} ${res.statusText}` };
      }
      const total = Number(res.headers.get('content-length')) || null;
      const chunks: Buffer[] = [];
      let received = 0;
      const reader = res.body.getReader();
      for (;;) {
        arm(); // DEBUGINFOD_TIMEOUT bounds each wait for data, as libdebuginfod's does
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(Buffer.from(value));
        received += value.byteLength;
        this.onProgress?.({ buildId, artifact, module, server, received, total, done: false });
      }
      const data = Buffer.concat(chunks);
      let got: string | null = null;
      try {
        got = ElfFile.fromBuffer(url, data).buildId;
      } catch {
        return { kind: 'error', server, detail: `${server} served a file that is not ELF for build-id ${buildId}` };
      }
      if (got !== buildId) return { kind: 'error', server, detail: `${server} served a file of build-id ${got ?? 'none'} for build-id ${buildId}: refused` };
      return { kind: 'ok', server, data };
    }
  }
}

type ServerAnswer = { kind: 'ok'; server: string; data: Buffer } | { kind: 'absent'; server: string } | { kind: 'error'; server: string; detail: string };

/** The cached artifact, 'negative' for a fresh negative answer, or null (synchronous: the tracer's lookups use it). */
export function cachedDebuginfod(settings: DebuginfodSettings, buildId: string, artifact: DebuginfodArtifact): string | 'negative' | null {
  const file = path.join(settings.cachePath, buildId, artifact);
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return null;
  }
  if (!st.isFile()) return null;
  if (st.size > 0) return file;
  return Date.now() - st.mtimeMs < cacheMissSeconds(settings.cachePath) * 1000 ? 'negative' : null;
}

function cacheMissSeconds(cachePath: string): number {
  try {
    const n = Number(fs.readFileSync(path.join(cachePath, 'cache_miss_s'), 'utf8').trim());
    return Number.isFinite(n) && n >= 0 ? n : DEFAULT_CACHE_MISS_S;
  } catch {
    return DEFAULT_CACHE_MISS_S;
  }
}
