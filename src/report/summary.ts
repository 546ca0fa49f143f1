/** summary.md: per test file and test, the hooks, hit counts, merged call paths, crash stacks and failures. */
import type { Capture } from '../capture/types';
import type { ReportTest, UstackReport } from './model';
import { hitCount } from '../capture/model';
import { formatMergedPath, hitTotal, hooksOf, keptHitsOfHook, mergePaths, stackLines, stacksOfHook } from './stacks';
import { callStatsMarkdown } from './call-stats';
import { inPhase } from '../callpath/merge';

export interface SummaryOptions {
  /** Merged call paths listed per hook before "… N more". Default 20. */
  maxStacksPerHook?: number;
  /** Lines of a failure message kept. Default 40. */
  maxFailureLines?: number;
}

const STATUS_ICON: Record<string, string> = { passed: '✅', failed: '❌', skipped: '⏭️', pending: '⏭️', todo: '📝', disabled: '⏭️', focused: '✅', unknown: '❔' };

/** Markdown code fence that cannot be closed by the content. */
function fence(text: string, lang = ''): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const f = '`'.repeat(longest + 1);
  return `${f}${lang}\n${text}\n${f}`;
}

function inlineCode(text: string): string {
  const t = text.replace(/\n/g, ' ');
  const longest = Math.max(0, ...(t.match(/`+/g) ?? []).map((m) => m.length));
  const f = '`'.repeat(longest + 1);
  return `${f}${longest ? ' ' : ''}${t}${longest ? ' ' : ''}${f}`;
}

function escapeMd(text: string): string {
  return text.replace(/([\\`*_{}[\]<>|#])/g, '\\$1');
}

export function describeExit(c: Capture): string {
  if (c.stats?.timedOut) return 'timed out';
  if (c.exit.signal) return `killed by ${c.exit.signal}`;
  return c.exit.code == null ? 'exit unknown' : `exit ${c.exit.code}`;
}

export function crashTitle(c: Capture): string {
  const crash = c.crash!;
  const top = crash.frames[0];
  const where = top ? ` in ${top.symbol ?? '??'}` : '';
  return `${crash.signal}${where}${crash.faultAddress ? ` (fault address ${crash.faultAddress})` : ''}`;
}

function captureSection(c: Capture, opts: Required<SummaryOptions>, out: string[]): void {
  const hits = c.stats?.hits ?? hitCount(c);
  const dropped = c.stats?.foldedHits ? `, ${c.stats.foldedHits} in stacks folded past the distinct-stack limit` : '';
  out.push(`${inlineCode(c.command.join(' '))} — ${describeExit(c)} — ${hits} hit${hits === 1 ? '' : 's'}${dropped} (${c.backend})`);
  out.push('');
  for (const hook of hooksOf(c)) {
    const hookStacks = stacksOfHook([c], hook);
    const hookHits = hitTotal(hookStacks);
    const paths = mergePaths(hookStacks);
    // the report keeps every hit; tests count the program's run only (normalize.phase 'main'): say how many differ
    const outside = hitTotal(hookStacks.filter((st) => !inPhase(st)));
    const outsideNote = outside ? ` (${outside} before main or after exit, which call paths in tests leave out)` : '';
    out.push(`- **${escapeMd(hook)}**: ${hookHits} hit${hookHits === 1 ? '' : 's'}${outsideNote}${paths.length ? `, ${paths.length} distinct path${paths.length === 1 ? '' : 's'}` : ''}`);
    if (paths.length) {
      const shown = paths.slice(0, opts.maxStacksPerHook).map(formatMergedPath);
      if (paths.length > shown.length) shown.push(`… ${paths.length - shown.length} more (see report.json)`);
      out.push('', fence(shown.join('\n')).replace(/^/gm, '  '), '');
    }
    // arguments, returns and durations per path (issue 13)
    const calls = callStatsMarkdown(keptHitsOfHook([c], hook), opts.maxStacksPerHook);
    if (calls.length) out.push(...calls.map((l) => '  ' + l), '');
  }
  if (c.crash) {
    out.push(`- 💥 **Crash: ${escapeMd(crashTitle(c))}**`, '', fence(stackLines(c.crash.frames).join('\n')).replace(/^/gm, '  '), '');
  }
  for (const w of c.warnings ?? []) out.push(`- ⚠️ ${escapeMd(w)}`);
  out.push('');
}

function testSection(test: ReportTest, opts: Required<SummaryOptions>, out: string[]): void {
  const name = test.title.length ? test.title.join(' › ') : test.fullName;
  const time = test.durationMs != null ? ` (${test.durationMs} ms)` : '';
  out.push(`### ${STATUS_ICON[test.status] ?? ''} ${escapeMd(name)}${time}`, '');
  for (const c of test.captures) captureSection(c, opts, out);
  for (const message of test.failureMessages) {
    const lines = message.split('\n');
    const kept = lines.slice(0, opts.maxFailureLines);
    if (lines.length > kept.length) kept.push(`… ${lines.length - kept.length} more lines`);
    out.push('<details><summary>Failure</summary>', '', fence(kept.join('\n')), '', '</details>', '');
  }
}

export function renderSummary(report: UstackReport, options: SummaryOptions = {}): string {
  const opts: Required<SummaryOptions> = { maxStacksPerHook: options.maxStacksPerHook ?? 20, maxFailureLines: options.maxFailureLines ?? 40 };
  const t = report.totals;
  const out: string[] = [];
  out.push(`# ${escapeMd(report.title)}`, '');
  const shards = report.runs.filter((r) => r.shard).map((r) => r.shard);
  out.push(
    `${t.tests} test${t.tests === 1 ? '' : 's'} in ${t.files} file${t.files === 1 ? '' : 's'}: ` +
      `${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped · ${t.captures} traced run${t.captures === 1 ? '' : 's'}, ` +
      `${t.hits} hit${t.hits === 1 ? '' : 's'}, ${t.crashes} crash${t.crashes === 1 ? '' : 'es'}` +
      (shards.length ? ` · merged shards ${shards.join(', ')}` : ''),
    '',
  );
  const crashes = report.files.flatMap((f) => f.tests.flatMap((tt) => tt.captures.filter((c) => c.crash).map((c) => ({ f, tt, c }))));
  if (crashes.length) {
    out.push('## Crashes', '');
    for (const { f, tt, c } of crashes) {
      const top = c.crash!.frames.find((fr) => fr.file) ?? c.crash!.frames[0];
      const at = top?.file ? ` at ${inlineCode(`${top.file}:${top.line ?? '?'}`)}` : '';
      out.push(`- ${escapeMd(f.path)} › ${escapeMd(tt.title.join(' › ') || tt.fullName)}: ${escapeMd(crashTitle(c))}${at}`);
    }
    out.push('');
  }
  for (const file of report.files) {
    const icon = file.status === 'failed' ? '❌' : file.status === 'passed' ? '✅' : '❔';
    out.push(`## ${icon} ${escapeMd(file.path)}`, '');
    if (file.failureMessage) out.push(fence(file.failureMessage.split('\n').slice(0, opts.maxFailureLines).join('\n')), '');
    for (const test of file.tests) testSection(test, opts, out);
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n');
}

/**
 * Cuts markdown to at most maxBytes (UTF-8) at a line boundary and says so, closing an open
 * code fence so the rest of the page still renders.
 */
export function truncateMarkdown(markdown: string, maxBytes: number, note: string): string {
  if (Buffer.byteLength(markdown) <= maxBytes) return markdown;
  const tail = `\n\n---\n**Truncated:** ${note}\n`;
  const budget = Math.max(0, maxBytes - Buffer.byteLength(tail) - 16);
  let cut = Buffer.from(markdown).subarray(0, budget).toString('utf8');
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  const nl = cut.lastIndexOf('\n');
  if (nl > 0) cut = cut.slice(0, nl);
  let open: string | null = null;
  for (const line of cut.split('\n')) {
    const m = /^\s*(`{3,})/.exec(line);
    if (!m) continue;
    if (open == null) open = m[1];
    else if (m[1].length >= open.length && line.trim() === m[1]) open = null;
  }
  if (open) cut += `\n${open}`;
  return cut + tail;
}
