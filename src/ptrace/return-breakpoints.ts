/**
 * Bookkeeping for return breakpoints (`--returns`), as uretprobes do it: at a hooked function's
 * first instruction the return address is [rsp], and the call has returned when that thread
 * stops there with rsp just above the slot (entry rsp + 8). Calls are matched per thread by that
 * stack pointer, so recursion (same return address, different slots) and threads never mix up.
 * A call whose slot the stack has moved past without returning (longjmp, a C++ exception
 * unwinding through it) is settled with `return: null`; one breakpoint per return address and
 * process is planted while calls wait on it and removed when the last one is settled.
 */
import type { NoReturnReason } from '../capture/types';

export interface PendingCall<T> {
  /** rsp right after the `ret` that ends this call. */
  sp: number;
  /** The return address: where the breakpoint is. */
  address: number;
  pid: number;
  /** What the caller attached (the recorded hit, the signature to decode the value). */
  data: T;
  /** process.hrtime.bigint() when the entry stop was resumed. */
  startedNs: bigint;
  /** Order of the entry among the thread's events (to tell what happened after it). */
  order: number;
  /** A fork child's copy of a call its parent made. */
  forked?: boolean;
}

export interface Settled<T> {
  call: PendingCall<T>;
  /** null: returned normally (see `returned`); else why not. */
  reason: NoReturnReason | null;
}

export class ReturnTracker<T> {
  private readonly pending = new Map<number, PendingCall<T>[]>();
  /** pid -> return address -> calls waiting there. */
  private readonly refs = new Map<number, Map<number, number>>();
  /** Last longjmp / exception seen per thread, with its order. */
  private readonly unwinds = new Map<number, { kind: 'longjmp' | 'exception'; order: number }>();
  private order = 0;
  returned = 0;

  /**
   * A hooked call entered on `tid` with `rsp` at its first instruction and return address `ret`.
   * Returns the calls it proves abandoned (their slot is at or below the new call's) and whether
   * a breakpoint must be planted at `ret`.
   */
  enter(tid: number, pid: number, rsp: number, ret: number, data: T, startedNs: bigint): { call: PendingCall<T>; settled: Settled<T>[]; plant: boolean; freed: number[] } {
    const list = this.list(tid);
    const settled: Settled<T>[] = [];
    const freed: number[] = [];
    const unwind = this.unwinds.get(tid);
    // innermost calls are at the end; a call whose return slot is at or below rsp is gone
    while (list.length) {
      const top = list[list.length - 1];
      if (top.sp > rsp + 8) break;
      // a tail call reuses the caller's slot: same slot, same return address, no unwinding in between
      if (top.sp === rsp + 8 && top.address === ret && !(unwind && unwind.order > top.order)) break;
      list.pop();
      settled.push({ call: top, reason: this.reasonFor(tid, top) });
      if (this.release(top)) freed.push(top.address);
    }
    const call: PendingCall<T> = { sp: rsp + 8, address: ret, pid, data, startedNs, order: ++this.order };
    list.push(call);
    const perPid = this.refsOf(pid);
    const n = (perPid.get(ret) ?? 0) + 1;
    perPid.set(ret, n);
    return { call, settled, plant: n === 1, freed };
  }

  /** True when some call waits at `address` in process `pid` (the breakpoint there is a return breakpoint). */
  isReturnSite(pid: number, address: number): boolean {
    return (this.refs.get(pid)?.get(address) ?? 0) > 0;
  }

  /**
   * `tid` stopped at return breakpoint `address` with `rsp`: the calls that returned (more than
   * one after tail calls) and the deeper ones skipped by an unwind. `freed`: addresses whose last
   * waiting call is settled (remove those breakpoints).
   */
  stopAt(tid: number, address: number, rsp: number): { returned: PendingCall<T>[]; settled: Settled<T>[]; freed: number[] } {
    const list = this.pending.get(tid);
    const returned: PendingCall<T>[] = [];
    const settled: Settled<T>[] = [];
    const freed: number[] = [];
    if (!list) return { returned, settled, freed };
    while (list.length) {
      const top = list[list.length - 1];
      if (top.sp > rsp) break;
      list.pop();
      if (top.sp === rsp && top.address === address) {
        returned.push(top);
        if (!top.forked) this.returned++; // a fork child's copy of a call is not another call
      } else settled.push({ call: top, reason: this.reasonFor(tid, top) });
      if (this.release(top)) freed.push(top.address);
    }
    return { returned, settled, freed };
  }

  /**
   * The stack of `tid` is being cut back to `sp` (longjmp's saved rsp; a catch handler's frame):
   * every call that would have returned at or below it is settled with `kind`.
   */
  unwindTo(tid: number, sp: number, kind: 'longjmp' | 'exception'): { settled: Settled<T>[]; freed: number[] } {
    const list = this.pending.get(tid);
    const settled: Settled<T>[] = [];
    const freed: number[] = [];
    while (list?.length && list[list.length - 1].sp <= sp) {
      const call = list.pop()!;
      settled.push({ call, reason: kind });
      if (this.release(call)) freed.push(call.address);
    }
    return { settled, freed };
  }

  /** A longjmp or a C++ throw started on `tid`: calls found abandoned later are blamed on it. */
  noteUnwind(tid: number, kind: 'longjmp' | 'exception'): void {
    this.unwinds.set(tid, { kind, order: ++this.order });
  }

  /** The thread is gone (exit, crash, exec, kill): all its calls are settled with `reason`. */
  threadGone(tid: number, reason: NoReturnReason): Settled<T>[] {
    const list = this.pending.get(tid) ?? [];
    this.pending.delete(tid);
    this.unwinds.delete(tid);
    const out = list.reverse().map((call) => ({ call, reason }));
    for (const s of out) this.release(s.call);
    return out;
  }

  /** A forked child's thread resumes the same calls in its copy of the memory (with the same breakpoints). */
  forkThread(parentTid: number, childTid: number, childPid: number, copy: (data: T) => T): void {
    const list = this.pending.get(parentTid);
    if (!list?.length) return;
    const perPid = this.refsOf(childPid);
    this.pending.set(
      childTid,
      list.map((c) => {
        perPid.set(c.address, (perPid.get(c.address) ?? 0) + 1);
        return { ...c, pid: childPid, data: copy(c.data), forked: true };
      }),
    );
  }

  /** Every thread still waiting (end of the run). */
  threads(): number[] {
    return [...this.pending.keys()];
  }

  /** Forgets a process's breakpoint counts (its image is gone: exec or exit). */
  processGone(pid: number): void {
    this.refs.delete(pid);
  }

  private reasonFor(tid: number, call: PendingCall<T>): NoReturnReason {
    const u = this.unwinds.get(tid);
    return u && u.order > call.order ? u.kind : 'unwound';
  }

  private list(tid: number): PendingCall<T>[] {
    let l = this.pending.get(tid);
    if (!l) {
      l = [];
      this.pending.set(tid, l);
    }
    return l;
  }

  private refsOf(pid: number): Map<number, number> {
    let m = this.refs.get(pid);
    if (!m) {
      m = new Map();
      this.refs.set(pid, m);
    }
    return m;
  }

  /** True when this was the last call waiting at its address. */
  private release(call: PendingCall<T>): boolean {
    const perPid = this.refs.get(call.pid);
    if (!perPid) return false;
    const n = (perPid.get(call.address) ?? 0) - 1;
    if (n > 0) {
      perPid.set(call.address, n);
      return false;
    }
    perPid.delete(call.address);
    return true;
  }
}
