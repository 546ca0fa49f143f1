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
  /** `advice`: what to do instead (a script: trace its interpreter); default: the general rule. */
  constructor(path: string, detail: string, advice?: string) {
    super('USTACK_NOT_ELF', `"${path}" ${detail}. jest-ustack traces native x86-64 Linux ELF programs${advice ? `. ${advice}.` : '; for a script, hook the interpreter binary or trace the native program it starts.'}`);
  }
}

/** A hook spec matched no function. */
export class UnknownHookError extends UstackError {
  readonly suggestions: string[];
  /** `hint`: what to do, in place of the default (a list of functions). */
  constructor(spec: string, where: string, suggestions: string[], hint?: string) {
    hint = suggestions.length
      ? ` Did you mean: ${suggestions.map((s) => `"${s}"`).join(', ')}?${hint ? ` ${hint}` : ''}`
      : ` ${hint ?? 'Run `ustack symbols BIN PATTERN` to list the functions that exist.'}`;
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
  readonly module: string;
  readonly buildId: string | null;
  /** `text`: what is missing and how to get it (a full sentence naming the module), or a fix after "No debug information for MODULE." */
  constructor(module: string, text: string, buildId: string | null = null) {
    super('USTACK_NO_DEBUGINFO', text.startsWith(module) ? `No debug information: ${text}` : `No debug information for ${module}. ${text}`);
    this.module = module;
    this.buildId = buildId;
  }
}

/** Invalid command-line usage or options. */
export class UsageError extends UstackError {
  constructor(message: string) {
    super('USTACK_USAGE', message);
  }
}

/** An ELF file is damaged or uses a feature jest-ustack cannot read. */
export class ElfFormatError extends UstackError {
  constructor(path: string, detail: string) {
    super('USTACK_ELF_FORMAT', `Cannot read "${path}": ${detail}.`);
  }
}

/** Call frame information (.eh_frame / .eh_frame_hdr / .debug_frame) that cannot be parsed. */
export class CorruptCfiError extends UstackError {
  constructor(section: string, offset: number, detail: string) {
    super('USTACK_CORRUPT_CFI', `Malformed ${section} at offset 0x${offset.toString(16)}: ${detail}. The module's unwind tables look damaged; rebuild it or report the file, stacks through it fall back to frame pointers.`);
  }
}

/** A report.json given to `ustack report merge` is missing, unreadable or of another schema. */
export class ReportFormatError extends UstackError {
  constructor(file: string, detail: string) {
    super('USTACK_BAD_REPORT', `Cannot merge "${file}": ${detail}. Pass folders (or report.json files) written by the jest-ustack reporter of a compatible version.`);
  }
}

/** A capture (JSON) of a schema this version does not read, or not a capture at all. */
export class CaptureFormatError extends UstackError {
  constructor(detail: string) {
    super('USTACK_BAD_CAPTURE', `Cannot read the capture: ${detail}. This version reads capture schemas 1 and 2 (\`ustack record --format json\`, report.json); re-record it with a compatible jest-ustack version.`);
  }
}

/** DWARF data that cannot be decoded (truncated or unknown encodings). */
export class MalformedDwarfError extends UstackError {
  constructor(detail: string) {
    super('USTACK_MALFORMED_DWARF', `Malformed DWARF debug information: ${detail}. The binary's debug sections are damaged or use an encoding jest-ustack does not read; rebuild with -g (DWARF 4 or 5) or report the compiler version.`);
  }
}

/** A call-path pattern given to a matcher is malformed. */
export class InvalidCallPathPatternError extends UstackError {
  constructor(pattern: string, detail: string) {
    super('USTACK_INVALID_CALL_PATH_PATTERN', `Invalid call-path pattern "${pattern}": ${detail}. Write function names separated by " > ", "*" for exactly one frame, "**" for any number of frames, e.g. "main > ** > parse_*".`);
  }
}

/** A traced program was still running when its time ran out (the Jest test's or the trace's own). */
export class TraceTimeoutError extends UstackError {
  constructor(message: string) {
    super('USTACK_TRACE_TIMEOUT', message, 1);
  }
}

/** SystemTap itself failed (translator, compiler or runtime) for a reason other than a bad hook or missing debuginfo. */
export class StapFailedError extends UstackError {
  readonly stderr: string;
  constructor(detail: string, stderr: string) {
    super('USTACK_STAP_FAILED', `stap failed: ${detail}. Run \`ustack doctor\` to check the host; stap's messages:\n${stderr.trim().split('\n').slice(-20).join('\n')}`);
    this.stderr = stderr;
  }
}

/** `testEnvironmentOptions.ustack`, a docblock pragma or trace() options are invalid. */
export class InvalidTraceOptionsError extends UstackError {
  constructor(where: string, detail: string) {
    super('USTACK_INVALID_OPTIONS', `Invalid jest-ustack option in ${where}: ${detail}.`);
  }
}

/** trace() was called outside the jest-ustack test environment. */
export class NoTraceEnvironmentError extends UstackError {
  constructor() {
    super('USTACK_NO_ENVIRONMENT', 'trace() needs the jest-ustack test environment. Set `preset: "jest-ustack"` or `testEnvironment: "jest-ustack/environment"` in your Jest config (or add a `@jest-environment jest-ustack/environment` docblock to this file).');
  }
}

/** A matcher got an argument or option of the wrong type or value. */
export class InvalidMatcherArgumentError extends UstackError {
  constructor(matcher: string, detail: string) {
    super('USTACK_INVALID_MATCHER_ARGUMENT', `${matcher}: ${detail}.`);
  }
}

/** USTACK_STAP_MODULES names a folder of prebuilt probe modules, and it has none for this run. */
export class StapModuleMissingError extends UstackError {
  constructor(module: string, release: string) {
    super('USTACK_STAP_NO_MODULE', `No prebuilt probe module for this run: ${module} does not exist, and this host has no kernel headers to compile one. Build it on a machine with a compiler and the headers of kernel ${release} (compileStapModule() or \`ustack stap-compile\` with the same build of the program at the same path, hooks and limits), or unset USTACK_STAP_MODULES where stap can compile.`);
  }
}
