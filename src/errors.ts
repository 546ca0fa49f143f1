/**
 * Every error jest-ustack raises on purpose is a UstackError with a stable `code`,
 * a message saying what was wrong, and (where there is one) what to do about it.
 */
export class UstackError extends Error {
  readonly code: string;
  /** Exit code the CLI uses for this error: 2 for bad input and unusable hosts. */
  readonly exitCode: number;

  constructor(code: string, message: string, exitCode = 2) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** The program to trace does not exist or cannot be executed. */
export class BinaryNotFoundError extends UstackError {
  constructor(path: string, detail?: string) {
    super('USTACK_BINARY_NOT_FOUND', `Cannot run "${path}": ${detail ?? 'no such file'}. Check the path (relative paths are resolved from the working directory, bare names from $PATH).`);
  }
}

/** The file is not an ELF file, or not an x86-64 one. */
export class NotElfError extends UstackError {
  constructor(path: string, detail: string) {
    super('USTACK_NOT_ELF', `"${path}" ${detail}. jest-ustack traces native x86-64 Linux ELF programs; for a script, hook the interpreter binary or trace the native program it starts.`);
  }
}

/** A hook spec matched no function. */
export class UnknownHookError extends UstackError {
  readonly suggestions: string[];
  constructor(spec: string, where: string, suggestions: string[]) {
    const hint = suggestions.length
      ? ` Did you mean: ${suggestions.map((s) => `"${s}"`).join(', ')}?`
      : ' Run `ustack symbols BIN PATTERN` to list the functions that exist.';
    super('USTACK_UNKNOWN_HOOK', `Hook "${spec}" matches no function in ${where}.${hint}`);
    this.suggestions = suggestions;
  }
}

/** A hook spec is malformed. */
export class InvalidHookError extends UstackError {
  constructor(spec: string, detail: string) {
    super('USTACK_INVALID_HOOK', `Invalid hook "${spec}": ${detail}. Use "func", "func@module" or a glob such as "parse_*".`);
  }
}

/** ptrace is not allowed on this host. */
export class PtraceDeniedError extends UstackError {
  constructor(detail: string) {
    super('USTACK_PTRACE_DENIED', `ptrace is not permitted here: ${detail}`);
  }
}

/** A backend cannot run on this host (reason from `ustack doctor`). */
export class BackendUnavailableError extends UstackError {
  constructor(backend: string, reason: string) {
    super('USTACK_BACKEND_UNAVAILABLE', `The ${backend} backend cannot run on this host: ${reason}. Run \`ustack doctor\` for details.`);
  }
}

/** No debug information for a module where it is required. */
export class NoDebugInfoError extends UstackError {
  constructor(module: string, fix: string) {
    super('USTACK_NO_DEBUGINFO', `No debug information for ${module}. ${fix}`);
  }
}

/** Invalid command-line usage or options. */
export class UsageError extends UstackError {
  constructor(message: string) {
    super('USTACK_USAGE', message);
  }
}
