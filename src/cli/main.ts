/** `ustack`: the command-line tool (started by src/cli.ts). One file per subcommand under src/cli/. */
import { UstackError } from '../errors';

const commands: Record<string, () => Promise<{ main(args: string[]): Promise<number> }>> = {
  record: () => import('./record'),
  symbols: () => import('./symbols'),
  doctor: () => import('./doctor'),
  report: () => import('./report'),
  'stap-compile': () => import('./stap-compile'),
};

const usage = `Usage: ustack <command> [options]

Commands:
  record   run a program with hooks on functions and print the stack of every hit
  symbols  list the functions a hook pattern resolves to in a binary
  doctor   say which backends (ptrace, stap) can run on this host, and why not
  report   merge reports of sharded Jest runs (ustack report merge DIR... --output DIR)
  stap-compile  build a stap probe module here for a host that only has staprun

Run \`ustack <command> --help\` for a command's options.`;

async function run(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(usage + '\n');
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`ustack: unknown command "${name}".\n\n${usage}\n`);
    return 2;
  }
  const command = await load();
  return command.main(args);
}

/**
 * Ends the process once what the command wrote to stdout and stderr is flushed. A finished
 * command must never wait for anything else: Node's own shutdown drains V8's background tasks
 * (the demangler's WebAssembly compiles on them) and any handle a library left open, and either
 * can keep a process whose output is complete from ever exiting.
 */
function exitWhenFlushed(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.destroyed || stream.writableFinished) done();
    else stream.write('', done);
  }
}

run(process.argv.slice(2)).then(
  (code) => exitWhenFlushed(code),
  (e: unknown) => {
    if (e instanceof UstackError || (e && typeof e === 'object' && 'code' in e && String((e as UstackError).code).startsWith('USTACK_'))) {
      const err = e as UstackError;
      process.stderr.write(`ustack: ${err.message}\n`);
      exitWhenFlushed(err.exitCode ?? 2);
    } else {
      process.stderr.write(`ustack: internal error: ${(e as Error)?.stack ?? e}\n`);
      exitWhenFlushed(70);
    }
  },
);
