/**
 * Reference data that many requests read and few change (the calls in scope of the screening list, a call's
 * settings at a deadline): kept in memory for at most `ttlMs`, and dropped at once when this process changes its
 * source (`clear`, wired to the model's hooks, also after the writing transaction commits). Another worker or
 * host sees a change within `ttlMs`. A failed load is not kept.
 */
const everyCache = new Set<{ clear(): void }>();

/**
 * Drop everything every cache holds: for when the database changed behind the models' back (a restore, a test's
 * reset with plain SQL).
 */
export function forgetCachedReads(): void {
  for (const c of everyCache) c.clear();
}

export class ReadCache<K, V> {
  private readonly entries = new Map<K, { at: number; value: Promise<V> }>();
  private generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly load: (key: K) => Promise<V>,
    private readonly maxEntries = 1000,
  ) {
    everyCache.add(this);
  }

  get(key: K): Promise<V> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const generation = this.generation;
    const value = this.load(key);
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, { at: now, value });
    // A load that fails, or that was overtaken by a change while it ran, is not served again.
    value.then(
      () => {
        if (this.generation !== generation && this.entries.get(key)?.value === value) this.entries.delete(key);
      },
      () => {
        if (this.entries.get(key)?.value === value) this.entries.delete(key);
      },
    );
    return value;
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }
}

/** Model hooks that mean "rows of this table changed" (instance and bulk writes). */
export const CHANGE_HOOKS = ['afterCreate', 'afterUpdate', 'afterDestroy', 'afterSave', 'afterUpsert', 'afterBulkCreate', 'afterBulkUpdate', 'afterBulkDestroy'] as const;

/**
 * Call `fn` when a model's rows change: at once and, for a write inside a transaction, again after it commits
 * (a reader may have loaded the old rows in between).
 */
export function onModelChange(model: { addHook(name: string, fn: (...args: unknown[]) => void): unknown }, fn: () => void): void {
  for (const name of CHANGE_HOOKS) {
    model.addHook(name, (...args: unknown[]) => {
      fn();
      const options = args[args.length - 1] as { transaction?: { afterCommit(cb: () => void): void } | null } | undefined;
      options?.transaction?.afterCommit(fn);
    });
  }
}
