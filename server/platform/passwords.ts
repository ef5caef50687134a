/**
 * Password hashing with argon2id (OWASP parameters). Hashing runs on libuv's thread pool; a small semaphore
 * bounds how many hash at once so a burst of sign-ins cannot starve page rendering of CPU.
 */
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
