/** Linux x86-64 signal numbers and names. */
const NAMES: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE',
  9: 'SIGKILL', 10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM',
  16: 'SIGSTKFLT', 17: 'SIGCHLD', 18: 'SIGCONT', 19: 'SIGSTOP', 20: 'SIGTSTP', 21: 'SIGTTIN', 22: 'SIGTTOU',
  23: 'SIGURG', 24: 'SIGXCPU', 25: 'SIGXFSZ', 26: 'SIGVTALRM', 27: 'SIGPROF', 28: 'SIGWINCH', 29: 'SIGIO',
  30: 'SIGPWR', 31: 'SIGSYS',
};

export const SIGTRAP = 5;
export const SIGKILL = 9;
export const SIGSTOP = 19;
export const SIGCONT = 18;

export function signalName(sig: number): string {
  return NAMES[sig] ?? (sig >= 34 && sig <= 64 ? `SIGRT${sig - 34}` : `SIG${sig}`);
}

export function signalNumber(name: string): number | null {
  for (const [num, n] of Object.entries(NAMES)) if (n === name) return Number(num);
  return null;
}

/** Signals whose default action ends the process with a core dump: a crash when not handled. */
export const CRASH_SIGNALS = new Set([4, 5, 6, 7, 8, 11, 31]);

/** Signals that carry a fault address in siginfo (si_addr). */
export const FAULT_ADDRESS_SIGNALS = new Set([4, 7, 8, 11]);

/** Group-stop signals. */
export const STOP_SIGNALS = new Set([19, 20, 21, 22]);
