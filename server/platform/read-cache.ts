/**
 * Reference data that many requests read and few change (the calls in scope of the screening list, a call's
 * settings at a deadline): kept in memory for at most `ttlMs`, and dropped at once when this process changes its
 * source (`clear`, wired to the model's hooks, also after the writing transaction commits). Another worker or
 * host sees a change within `ttlMs`. A failed load is not kept; a busy entry is reloaded before it expires.
 */
const everyCache = new Set<{ clear(): void }>();

/**
 * Drop everything every cache holds: for when the database changed behind the models' back (a restore, a test's
 * reset with plain SQL).
 */
export function forgetCachedReads(): void {
  for (const c of everyCache) c.clear();
}

interface Entry<V> {
  /** When its load started: what it holds is at most this old. */
  at: number;
  value: Promise<V>;
  loaded: boolean;
  refreshing: boolean;
}

export class ReadCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>();
  private generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly load: (key: K) => Promise<V>,
    private readonly maxEntries = 1000,
    private readonly clock: () => number = Date.now,
  ) {
    everyCache.add(this);
  }

  /**
   * The value, loaded at most `ttlMs` ago. Past half its time an entry is reloaded in the background while it is
   * still served, so that under steady reads no request waits for a load (at a deadline that wait would be spent
   * queueing for a connection behind hundreds of others).
   */
  get(key: K): Promise<V> {
    const now = this.clock();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) {
      if (hit.loaded && !hit.refreshing && now - hit.at >= this.ttlMs / 2) {
        hit.refreshing = true;
        this.start(key, now, hit);
      }
      return hit.value;
    }
    return this.start(key, now, null).value;
  }

  /** Load `key`; the entry is set at once, or — refreshing `stale` — only once the load has succeeded. */
  private start(key: K, now: number, stale: Entry<V> | null): Entry<V> {
    const generation = this.generation;
    const entry: Entry<V> = { at: now, value: this.load(key), loaded: false, refreshing: false };
    const put = () => {
      if (this.entries.size >= this.maxEntries && !this.entries.has(key)) this.entries.clear();
      this.entries.set(key, entry);
    };
    if (!stale) put();
    // A load that fails, or that was overtaken by a change while it ran, is not served (again).
    entry.value.then(
      () => {
        entry.loaded = true;
        const current = this.generation === generation;
        if (stale) {
          stale.refreshing = false;
          if (current && this.entries.get(key) === stale) put();
        } else if (!current && this.entries.get(key) === entry) this.entries.delete(key);
      },
      () => {
        if (stale) stale.refreshing = false;
        else if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return entry;
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }
}

/**
 * Listeners to "these rows changed", for caches that live in modules loaded before the models are initialised
 * (a model's hooks can only be added after its init).
 */
export class ChangeSignal {
  private readonly listeners = new Set<() => void>();
  on(fn: () => void): void {
    this.listeners.add(fn);
  }
  readonly emit = (): void => {
    for (const fn of this.listeners) fn();
  };
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
