/**
 * Password hashing with argon2id (OWASP parameters). Hashing runs on libuv's thread pool; a small semaphore
 * bounds how many hash at once, and (Linux) the pool runs at a lower priority than the main thread, so a burst
 * of sign-ins uses the CPU the pages leave over instead of starving them.
 */
import { pbkdf2 } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { promisify } from 'node:util';
import argon2 from 'argon2';

const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

class Semaphore {
  private waiting: Array<() => void> = [];
  private active = 0;
  constructor(private limit: number) {}
  setLimit(n: number) {
    this.limit = n;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

const gate = new Semaphore(1);
const pbkdf2Async = promisify(pbkdf2);

export function setHashConcurrency(n: number): void {
  gate.setLimit(n);
}

export function hashPassword(plain: string): Promise<string> {
  return gate.run(() => argon2.hash(plain, OPTIONS));
}

/** A hash of nothing in particular, checked against when the account does not exist so timing reveals nothing. */
let decoy: Promise<string> | null = null;

export async function verifyPassword(hash: string | null, plain: string): Promise<boolean> {
  const h = hash ?? (await (decoy ??= argon2.hash('decoy-password-for-timing', OPTIONS)));
  const ok = await gate.run(() => argon2.verify(h, plain).catch(() => false));
  return ok && hash !== null;
}

/** On-CPU nanoseconds of each thread of this process (Linux), or null elsewhere. */
function threadCpu(): Map<string, number> | null {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return null;
  }
  const out = new Map<string, number>();
  for (const tid of tids) {
    try {
      out.set(tid, Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** The thread pool's priority: the lowest (see lowerThreadPoolPriority). */
export const POOL_NICE = 19;

/**
 * Lower the scheduling priority (nice) of libuv's thread pool — where argon2 hashes, and SQLite and file I/O
 * run — below the main thread's, which renders the pages. The main thread only waits for the pool when it has
 * nothing else to do, so pages keep their CPU while a sign-in burst hashes with what is left.
 * The pool's threads are the ones that keep working while short pbkdf2 jobs (which run on the pool) are
 * queued and the main thread waits (under 0.1 s at start-up). Linux only; elsewhere, or where not permitted, nothing changes.
 * Returns how many threads it lowered.
 *
 * Nice 19, the lowest: while 16 clients sign in continuously on SQLite, the home page kept 0.55–0.58 of its idle
 * throughput at 19, 0.50 at 10 and 0.43–0.45 at 0 (alternated runs on one machine), with the same ~43 sign-ins a
 * second in each: the hashing thread has a core of its own most of the time, and the pages get the other sooner.
 * (Those figures include the home page's own SQLite statements, which run on the same threads.)
 */
export async function lowerThreadPoolPriority(nice = POOL_NICE): Promise<number> {
  if (!threadCpu()) return 0;
  const size = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  // Each round queues 8 short jobs per pool thread. A pool thread works in most rounds (on a busy machine one
  // may miss a round), V8's helpers (compiling, GC) only in bursts: score = the median a thread worked.
  const rounds: Array<Map<string, number>> = [];
  for (let round = 0; round < 5; round++) {
    const before = threadCpu()!;
    await Promise.all(Array.from({ length: 8 * size }, () => pbkdf2Async('pool-probe', 'salt', 10_000, 32, 'sha256')));
    const after = threadCpu()!;
    rounds.push(new Map([...after].map(([tid, ns]) => [tid, ns - (before.get(tid) ?? ns)])));
  }
  const score = new Map([...rounds[rounds.length - 1]!.keys()].map((tid): [string, number] => [tid, rounds.map((r) => r.get(tid) ?? 0).sort((a, b) => a - b)[2]!]));
  const pool = [...score]
    .filter(([tid, w]) => Number(tid) !== process.pid && w >= 1_000_000)
    .sort((a, b) => b[1] - a[1])
    .slice(0, size);
  let lowered = 0;
  for (const [tid] of pool) {
    try {
      os.setPriority(Number(tid), nice);
      lowered++;
    } catch {
      // not permitted here: keep the default priority
    }
  }
  return lowered;
}
