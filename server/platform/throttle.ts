/**
 * Counters in the database (table login_throttles, keyed by purpose:subject) so every app process agrees:
 * sign-in failures, password-reset and registration requests. The arithmetic lives in people/rules.ts.
 */
import { QueryTypes, type Sequelize } from 'sequelize';
import { sqlOf } from './sql.js';
import { afterFailure, isLocked, LOCKOUT, type ThrottleState } from '../people/rules.js';

export type ThrottlePolicy = typeof LOCKOUT;

export async function readThrottle(sequelize: Sequelize, key: string): Promise<ThrottleState | null> {
  const rows = await sequelize.query<{ failures: number; window_start: string | Date; locked_until: string | Date | null }>(
    'SELECT failures, window_start, locked_until FROM login_throttles WHERE throttle_key = ?',
    { replacements: [key.slice(0, 191)], type: QueryTypes.SELECT },
  );
  const r = rows[0];
  return r ? { failures: Number(r.failures), windowStart: new Date(r.window_start), lockedUntil: r.locked_until ? new Date(r.locked_until) : null } : null;
}

export async function writeThrottle(sequelize: Sequelize, key: string, s: ThrottleState): Promise<void> {
  const sql =
    sequelize.getDialect() === 'sqlite'
      ? 'INSERT INTO login_throttles (throttle_key, failures, window_start, locked_until) VALUES (?, ?, ?, ?) ON CONFLICT(throttle_key) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start, locked_until = excluded.locked_until'
      : 'INSERT INTO login_throttles (throttle_key, failures, window_start, locked_until) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE failures = VALUES(failures), window_start = VALUES(window_start), locked_until = VALUES(locked_until)';
  // Plain SQL (sql.ts) binds the Dates in UTC; Sequelize's replacements would write them in the server's local
  // time, and on a server set to Asia/Shanghai a 15-minute lockout would have lasted 8 hours longer.
  await sqlOf(sequelize).run(sql, [key.slice(0, 191), s.failures, s.windowStart, s.lockedUntil]);
}

export async function clearThrottle(sequelize: Sequelize, key: string): Promise<void> {
  await sequelize.query('DELETE FROM login_throttles WHERE throttle_key = ?', { replacements: [key.slice(0, 191)] });
}

/** The latest lock among `keys` still in force at `now`, or null. */
export async function lockedUntil(sequelize: Sequelize, keys: string[], now = new Date()): Promise<Date | null> {
  const states = await Promise.all(keys.map((k) => readThrottle(sequelize, k)));
  const locks = states.filter((s) => isLocked(s, now)).map((s) => s!.lockedUntil!.getTime());
  return locks.length ? new Date(Math.max(...locks)) : null;
}

export async function recordHit(sequelize: Sequelize, key: string, policy: ThrottlePolicy, now = new Date()): Promise<void> {
  await writeThrottle(sequelize, key, afterFailure(await readThrottle(sequelize, key), now, policy));
}

/**
 * Count one request against every key; returns when the caller must wait until, or null when the request may
 * go ahead. Used for password-reset and registration requests (per address and per client IP).
 */
export async function consume(sequelize: Sequelize, keyed: Array<[string, ThrottlePolicy]>, now = new Date()): Promise<Date | null> {
  const until = await lockedUntil(sequelize, keyed.map(([k]) => k), now);
  if (until) return until;
  for (const [k, p] of keyed) await recordHit(sequelize, k, p, now);
  return null;
}
