/** CPU time of each thread of a process (Linux /proc), to see where a phase's CPU went. */
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ = 100 on Linux

export type ThreadTimes = Map<string, number>;

/** Milliseconds the main thread and the other threads spent runnable but waiting for a CPU (schedstat). */
export function runqueueWait(pid: number): ThreadTimes {
  const out: ThreadTimes = new Map();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const name = tid === String(pid) ? 'main' : 'other';
      const waited = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
      out.set(name, (out.get(name) ?? 0) + waited);
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** CPU milliseconds of the main thread and of all other threads together; empty where /proc is missing. */
export function threadTimes(pid: number): ThreadTimes {
  const out: ThreadTimes = new Map();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const name = tid === String(pid) ? 'main' : 'other';
      const fields = stat.slice(close + 2).split(' ');
      const ms = (Number(fields[11]) + Number(fields[12])) * TICK_MS;
      out.set(name, (out.get(name) ?? 0) + ms);
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** Share of one core each group used between two readings, e.g. { main: 0.93, other: 0.41 }. */
export function cpuShare(before: ThreadTimes, after: ThreadTimes, seconds: number): Record<string, number> {
  const share: Record<string, number> = {};
  for (const [name, ms] of after) {
    const used = (ms - (before.get(name) ?? 0)) / 1000 / seconds;
    if (used >= 0.01) share[name] = Math.round(used * 100) / 100;
  }
  return share;
}

export interface PhaseCpu {
  /** Cores' worth of CPU the app's main thread and its other threads (libuv pool: SQLite, argon2; GC) used. */
  cpu: Record<string, number>;
  /** Cores' worth of time they were runnable but had no CPU (the machine was busy). */
  waiting: Record<string, number>;
}

/** Measure the app's CPU use over `fn`. */
export async function withCpu<T>(pid: number, fn: () => Promise<T>): Promise<T & { app: PhaseCpu }> {
  const t0 = Date.now();
  const cpu0 = threadTimes(pid);
  const wait0 = runqueueWait(pid);
  const r = await fn();
  const seconds = (Date.now() - t0) / 1000;
  return { ...r, app: { cpu: cpuShare(cpu0, threadTimes(pid), seconds), waiting: cpuShare(wait0, runqueueWait(pid), seconds) } };
}
