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

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // the tracer worker is unref'ed; nothing else keeps the process alive
  },
  (e: unknown) => {
    if (e instanceof UstackError || (e && typeof e === 'object' && 'code' in e && String((e as UstackError).code).startsWith('USTACK_'))) {
      const err = e as UstackError;
      process.stderr.write(`ustack: ${err.message}\n`);
      process.exitCode = err.exitCode ?? 2;
    } else {
      process.stderr.write(`ustack: internal error: ${(e as Error)?.stack ?? e}\n`);
      process.exitCode = 70;
    }
  },
);
