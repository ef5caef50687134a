/**
 * express-session store in the `sessions` table, so several app processes share sign-ins.
 * Reads are one indexed query (plain SQL: it runs on every request); `touch` writes at most once per TOUCH_EVERY
 * so browsing does not write.
 * A store error reaches express-session as an error (→ 503), never as "no session".
 */
import session from 'express-session';
import { QueryTypes, type Sequelize } from 'sequelize';
import { sqlOf, toDate, type Sql } from './sql.js';

const TOUCH_EVERY_MS = 5 * 60_000;

/** The session store could not answer: the request fails with 503 instead of running as a visitor. */
export class SessionStoreUnavailable extends Error {
  readonly status = 503;
  constructor(cause: unknown) {
    super('session store unavailable', { cause });
  }
}
const unavailable = (cb: (e: unknown) => void) => (e: unknown) => cb(new SessionStoreUnavailable(e));

type Data = session.SessionData & { passport?: { user?: { id?: number } } };

export class DbSessionStore extends session.Store {
  private readonly sql: Sql;
  constructor(
    sequelize: Sequelize,
    private readonly ttlMs: number,
  ) {
    super();
    this.sql = sqlOf(sequelize);
  }

  private expiresFor(s: session.SessionData): Date {
    const e = s.cookie?.expires;
    return e ? new Date(e) : new Date(Date.now() + this.ttlMs);
  }

  override get(sid: string, cb: (err: unknown, s?: session.SessionData | null) => void): void {
    this.sql.one<{ data: string; expires: Date | string }>('SELECT data, expires FROM sessions WHERE sid = ?', [sid]).then((row) => {
      const expires = row ? toDate(row.expires)?.getTime() : undefined;
      if (!row || expires === undefined || expires <= Date.now()) return cb(null, null);
      const data = JSON.parse(row.data) as session.SessionData & { _expires?: number };
      data._expires = expires;
      cb(null, data);
    }, unavailable(cb));
  }

  override set(sid: string, s: session.SessionData, cb?: (err?: unknown) => void): void {
    const { _expires, ...rest } = s as Data & { _expires?: number };
    void _expires;
    const data = JSON.stringify(rest);
    const userId = (s as Data).passport?.user?.id ?? null;
    const expires = this.expiresFor(s);
    const sql =
      this.sql.dialect === 'sqlite'
        ? 'INSERT INTO sessions (sid, user_id, data, expires) VALUES (?, ?, ?, ?) ON CONFLICT(sid) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, expires = excluded.expires'
        : 'INSERT INTO sessions (sid, user_id, data, expires) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE user_id = VALUES(user_id), data = VALUES(data), expires = VALUES(expires)';
    this.sql.run(sql, [sid, userId, data, expires]).then(() => cb?.(), (e) => cb?.(new SessionStoreUnavailable(e)));
  }

  override touch(sid: string, s: session.SessionData, cb?: (err?: unknown) => void): void {
    const newExpiry = this.expiresFor(s);
    const old = (s as { _expires?: number })._expires;
    if (old !== undefined && newExpiry.getTime() - old < TOUCH_EVERY_MS) return cb?.();
    this.sql.run('UPDATE sessions SET expires = ? WHERE sid = ?', [newExpiry, sid]).then(() => cb?.(), (e) => cb?.(new SessionStoreUnavailable(e)));
  }

  override destroy(sid: string, cb?: (err?: unknown) => void): void {
    this.sql.run('DELETE FROM sessions WHERE sid = ?', [sid]).then(() => cb?.(), (e) => cb?.(new SessionStoreUnavailable(e)));
  }

  /**
   * Remove expired rows (run periodically). Through plain SQL, not `sequelize.query`: Sequelize writes a Date
   * replacement in the server's local time, which on a server set to Asia/Shanghai deleted sessions with 8 hours
   * still to run.
   */
  async prune(): Promise<void> {
    await this.sql.run('DELETE FROM sessions WHERE expires < ?', [new Date()]);
  }
}

/** End every session of a user (password reset, disabled account, changed roles). */
export async function destroyUserSessions(sequelize: Sequelize, userId: number, options: { transaction?: import('sequelize').Transaction; exceptSid?: string } = {}): Promise<void> {
  if (options.exceptSid) {
    await sequelize.query('DELETE FROM sessions WHERE user_id = ? AND sid <> ?', { replacements: [userId, options.exceptSid], transaction: options.transaction });
  } else {
    await sequelize.query('DELETE FROM sessions WHERE user_id = ?', { replacements: [userId], transaction: options.transaction });
  }
}

/**
 * Update the signed-in actor kept in every session of a user (their name, language or institution changed),
 * so other devices see the change at once without signing in again.
 */
export async function patchUserSessions(sequelize: Sequelize, userId: number, patch: Record<string, unknown>, transaction?: import('sequelize').Transaction): Promise<void> {
  const rows = await sequelize.query<{ sid: string; data: string }>('SELECT sid, data FROM sessions WHERE user_id = ?', { replacements: [userId], type: QueryTypes.SELECT, transaction });
  for (const row of rows) {
    const data = JSON.parse(row.data) as Data & { passport?: { user?: Record<string, unknown> } };
    if (!data.passport?.user) continue;
    Object.assign(data.passport.user, patch);
    await sequelize.query('UPDATE sessions SET data = ? WHERE sid = ?', { replacements: [JSON.stringify(data), row.sid], transaction });
  }
}
