/**
 * The helper process of prepareDebugInfoSync(): reads {search, paths} as JSON on stdin, prepares
 * their debug info (debuginfod downloads, MiniDebugInfo), prints the PrepareReport as JSON.
 */
import { configureDebugSearch, type DebugSearch } from './debug-search';
import { prepareDebugInfo } from './debug-prepare';

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const { search, paths } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { search: DebugSearch; paths: string[] };
  configureDebugSearch(search);
  const report = await prepareDebugInfo(paths, search, (line) => process.stderr.write(line + '\n'));
  process.stdout.write(JSON.stringify(report));
}

main().catch((e) => {
  process.stderr.write(`ustack: preparing debug info failed: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
