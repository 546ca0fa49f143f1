/** A small argv parser for `ustack` subcommands: --flag value, --flag=value, repeated flags, `--` stops parsing. */
import { UsageError } from '../errors';

export interface FlagSpec {
  /** Flag takes a value. */
  value?: boolean;
  /** Flag may repeat (values collected in an array). */
  multiple?: boolean;
}

export interface ParsedArgs {
  flags: Record<string, string | string[] | boolean>;
  positional: string[];
  /** Everything after `--`. */
  rest: string[];
}

export function parseArgs(args: string[], spec: Record<string, FlagSpec>, command: string): ParsedArgs {
  const flags: ParsedArgs['flags'] = {};
  const positional: string[] = [];
  let rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      rest = args.slice(i + 1);
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const s = spec[name];
      if (!s) {
        const known = Object.keys(spec).map((k) => '--' + k).join(', ');
        throw new UsageError(`Unknown option --${name} for \`ustack ${command}\`. Known options: ${known}.`);
      }
      let value: string | boolean = true;
      if (s.value) {
        if (eq >= 0) value = a.slice(eq + 1);
        else if (i + 1 < args.length) value = args[++i];
        else throw new UsageError(`Option --${name} needs a value.`);
      }
      if (s.multiple) ((flags[name] as string[] | undefined) ?? (flags[name] = [] as string[]) as string[]).push(value as string);
      else flags[name] = value;
    } else {
      positional.push(a);
    }
  }
  return { flags, positional, rest };
}

export function intFlag(value: string | string[] | boolean | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a non-negative number, got "${value}".`);
  return n;
}
