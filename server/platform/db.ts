/**
 * Database connection (SQLite file by default, MySQL/MariaDB through mysql2 with DATABASE_URL=mysql://…)
 * and the one way the app runs a transaction: `withTransaction`, which serialises writers on SQLite and
 * retries a whole transaction on MySQL deadlock / lock-wait timeout.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Sequelize, Transaction, type Options } from 'sequelize';
import { ROOT } from '../config.js';
import { allPrepared, forgetStatements, SQLITE_PLAIN_READS } from './sql.js';

export type Dialect = 'sqlite' | 'mysql';

export interface DbSettings {
  databaseUrl: string;
  poolMax?: number;
  logging?: boolean;
}

export function dialectOf(url: string): Dialect {
  return url.startsWith('sqlite:') ? 'sqlite' : 'mysql';
}

export function sqlitePath(url: string): string {
  const rest = url.slice('sqlite:'.length).replace(/^\/\//, '');
  if (rest === ':memory:') throw new Error('sqlite::memory: is not supported: transactions use their own connections');
  return path.resolve(ROOT, rest);
}

/** What Sequelize's SQLite dialect sends to begin (IMMEDIATE, see createSequelize), commit and roll back. */
const TRANSACTION_CONTROL = new Set(['BEGIN IMMEDIATE TRANSACTION;', 'COMMIT;', 'ROLLBACK;']);

/**
 * Sequelize's SQLite dialect asks `PRAGMA table_info(t)` before every SELECT (to parse dates and booleans),
 * doubling the statements of every read. The answer only changes with the schema, so it is kept per database
 * and forgotten whenever any connection runs DDL (CREATE / ALTER / DROP: migrations, test resets), as are the
 * prepared statements (sql.ts) of every connection of the database not yet closed (`live`). And Sequelize sends
 * a transaction's BEGIN, COMMIT and ROLLBACK as fresh statements (prepare, then run: two trips to SQLite's
 * thread); they go through the connection's prepared statements instead, so a transaction holds the single
 * writer for two trips less.
 */
function cacheTableInfo(c: { all(sql: string, ...rest: unknown[]): unknown; run(sql: string, ...rest: unknown[]): unknown; exec(sql: string, cb: (e: Error | null) => void): void }, tableInfo: Map<string, unknown>, live: Set<object>): void {
  const DDL = /^\s*(CREATE|ALTER|DROP)\b/i;
  const cache = {
    get: (k: string) => tableInfo.get(k),
    set: (k: string, v: unknown) => tableInfo.set(k, v),
    clear: () => {
      tableInfo.clear();
      for (const other of live) forgetStatements(other);
    },
  };
  const all = c.all.bind(c);
  const run = c.run.bind(c);
  const exec = c.exec.bind(c);
  c.all = (sql: string, ...rest: unknown[]) => {
    if (DDL.test(sql)) cache.clear();
    const cb = rest[rest.length - 1];
    if (TRANSACTION_CONTROL.has(sql) && typeof cb === 'function' && (rest.length === 1 || (rest.length === 2 && (rest[0] === undefined || (Array.isArray(rest[0]) && rest[0].length === 0))))) {
      allPrepared(c, sql, cb as (e: Error | null, rows?: unknown) => void);
      return c;
    }
    if (/^PRAGMA table_info\(/i.test(sql) && rest.length === 1 && typeof cb === 'function') {
      const hit = cache.get(sql);
      if (hit) {
        process.nextTick(() => (cb as (e: null, rows: unknown) => void).call(c, null, hit));
        return c;
      }
      return all(sql, (e: Error | null, rows: unknown) => {
        if (!e) cache.set(sql, rows);
        (cb as (e: Error | null, rows: unknown) => void).call(c, e, rows);
      });
    }
    return all(sql, ...rest);
  };
  c.run = (sql: string, ...rest: unknown[]) => {
    if (DDL.test(sql)) cache.clear();
    return run(sql, ...rest);
  };
  c.exec = (sql: string, cb: (e: Error | null) => void) => {
    if (DDL.test(sql) || /;\s*(CREATE|ALTER|DROP)\b/i.test(sql)) cache.clear();
    return exec(sql, cb);
  };
}

/** The key of the SQLite connection every transaction uses (see createSequelize). */
const WRITER = 'writer';

/** Server-side prepared statements mysql2 keeps open per pooled connection (platform/sql.ts). */
export const MYSQL_PREPARED_PER_CONNECTION = 100;

/** The SQL mode of every MySQL/MariaDB connection: MySQL 8's default, which MariaDB and MySQL both accept. */
export const MYSQL_SQL_MODE = 'ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';

export function createSequelize(s: DbSettings): Sequelize {
  const common: Options = {
    logging: s.logging ? console.log : false,
    define: { underscored: true, timestamps: true },
    retry: { max: 0 },
  };
  if (dialectOf(s.databaseUrl) === 'sqlite') {
    const storage = sqlitePath(s.databaseUrl);
    mkdirSync(path.dirname(storage), { recursive: true });
    const sequelize = new Sequelize({ ...common, dialect: 'sqlite', storage, transactionType: Transaction.TYPES.IMMEDIATE });
    // Sequelize's SQLite driver fires no afterConnect hook, and it opens (and afterwards closes) a new connection
    // for every transaction: each one re-opens the file and re-reads the schema. Writers are serialised by
    // `withTransaction` anyway, so every transaction gets the same long-lived writer connection instead; model
    // reads keep Sequelize's shared 'default' connection and plain SQL reads have one of their own (sql.ts; WAL
    // lets all of them run beside the writer). Each connection is configured the first time it is handed out
    // (WAL, NORMAL sync, busy timeout, FKs).
    type SqliteConn = {
      configure(o: 'busyTimeout', ms: number): void;
      exec(sql: string, cb: (e: Error | null) => void): void;
      close(cb?: () => void): void;
      all(sql: string, ...rest: unknown[]): unknown;
      run(sql: string, ...rest: unknown[]): unknown;
    };
    type Cm = {
      getConnection(o?: { uuid?: string }): Promise<SqliteConn>;
      releaseConnection(c: SqliteConn, force?: boolean): void;
      destroyConnection(c: SqliteConn): Promise<void>;
      connections: Record<string, SqliteConn>;
    };
    const cm = sequelize.connectionManager as unknown as Cm;
    const open = cm.getConnection.bind(cm);
    const release = cm.releaseConnection.bind(cm);
    const tableInfo = new Map<string, unknown>();
    // The connections handed out and not yet closed (a closed one is never handed out again).
    const live = new Set<object>();
    let writer: SqliteConn | null = null;
    const dropWriter = () => {
      const w = writer;
      writer = null;
      delete cm.connections[WRITER];
      w?.close(() => undefined);
    };
    cm.getConnection = async (o?: { uuid?: string }) => {
      const inTransaction = !!o?.uuid && o.uuid !== 'default' && o.uuid !== SQLITE_PLAIN_READS;
      const c = inTransaction ? (writer ??= await open({ ...o, uuid: WRITER })) : await open(o);
      if (!live.has(c)) {
        live.add(c);
        cacheTableInfo(c, tableInfo, live);
        // Prepared statements (sql.ts) must be finalised before SQLite lets a connection close.
        const close = c.close.bind(c);
        c.close = (cb?: () => void) => {
          live.delete(c);
          forgetStatements(c);
          close(cb);
        };
        c.configure('busyTimeout', 10_000);
        await new Promise<void>((resolve, reject) =>
          c.exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;', (e) => (e ? reject(e) : resolve())),
        );
      }
      return c;
    };
    // The writer stays open after a transaction; it is dropped (and reopened on next use) only when a
    // transaction could not even roll back, and closed with the others when Sequelize closes.
    cm.releaseConnection = (c: SqliteConn, force?: boolean) => {
      if (c !== writer) release(c, force);
    };
    cm.destroyConnection = async (c: SqliteConn) => {
      if (c === writer) dropWriter();
      else release(c, true);
    };
    return sequelize;
  }
  const url = s.databaseUrl.replace(/^mariadb:/, 'mysql:');
  return new Sequelize(url, {
    ...common,
    hooks: {
      afterConnect: async (connection: unknown) => {
        const run = (sql: string) => new Promise<void>((resolve, reject) => (connection as { query(sql: string, cb: (e: Error | null) => void): void }).query(sql, (e) => (e ? reject(e) : resolve())));
        // Strict whatever the server's configuration: a value that does not fit its column is refused, never cut
        // or clipped (money, names), and MariaDB answers as MySQL 8 does by default (ONLY_FULL_GROUP_BY).
        await run(`SET SESSION sql_mode = '${MYSQL_SQL_MODE}'`);
        // Every connection reads committed data by default, so a transaction needs no `SET TRANSACTION …` of its
        // own (one round trip less each); withTransaction asks for SERIALIZABLE, for one transaction, where it must.
        await run('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
      },
    },
    dialect: 'mysql',
    timezone: '+00:00',
    // typeCast: the driver's own generated row parser (DATETIME → Date in the connection's UTC, as Sequelize's does)
    // instead of Sequelize's per-field callback, which wraps every field of every row and parses dates by string.
    // Sequelize's callback only differs for DATEONLY and GEOMETRY columns, which this schema does not have.
    // maxPreparedStatements: platform/sql.ts prepares each text once per connection; the least recently used beyond
    // this many are closed, so that processes × pool connections × texts stays far below the server's
    // max_prepared_stmt_count (16,382 by default) however many filter combinations the lists see.
    // timezone 'Z' for the driver (the session's time zone stays Sequelize's '+00:00', the same instant): mysql2
    // reads a DATETIME in 'Z' as Date.UTC of its fields, but in any other zone it writes the fields out as text
    // and parses that with the zone appended: with 'Z' the rows' parsing on the screening list fell from 5.8 % to
    // 3.1 % of the main thread in a profile.
    dialectOptions: { charset: 'utf8mb4', dateStrings: false, typeCast: true, timezone: 'Z', supportBigNumbers: true, bigNumberStrings: false, connectTimeout: 5000, maxPreparedStatements: MYSQL_PREPARED_PER_CONNECTION },
    define: { ...common.define, charset: 'utf8mb4', collate: 'utf8mb4_unicode_ci' },
    pool: { max: s.poolMax ?? 10, min: 0, acquire: 10_000, idle: 10_000, evict: 5_000 },
  });
}

/** A FIFO async mutex: SQLite allows one writer, so writers queue here instead of failing with SQLITE_BUSY. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

const sqliteWriters = new WeakMap<Sequelize, Mutex>();
const RETRYABLE = new Set([1213, 1205]); // ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT

function mysqlErrno(e: unknown): number | undefined {
  const err = e as { parent?: { errno?: number }; original?: { errno?: number } };
  return err?.parent?.errno ?? err?.original?.errno;
}

/**
 * Run `fn` in one transaction. Everything inside must pass `{ transaction: t }`.
 * MySQL: the whole transaction is retried (bounded) on deadlock or lock wait timeout. `serializable` makes its
 * plain reads locking reads (what it checked cannot change before it commits); SQLite's writers are serial anyway.
 */
export async function withTransaction<T>(sequelize: Sequelize, fn: (t: Transaction) => Promise<T>, o: { serializable?: boolean } = {}): Promise<T> {
  if (sequelize.getDialect() === 'sqlite') {
    let m = sqliteWriters.get(sequelize);
    if (!m) sqliteWriters.set(sequelize, (m = new Mutex()));
    return m.run(() => sequelize.transaction((t) => fn(t)));
  }
  for (let attempt = 1; ; attempt++) {
    try {
      // READ COMMITTED is each connection's own level (createSequelize); SERIALIZABLE is set for this transaction only.
      return await sequelize.transaction(o.serializable ? { isolationLevel: Transaction.ISOLATION_LEVELS.SERIALIZABLE } : {}, (t) => fn(t));
    } catch (e) {
      const errno = mysqlErrno(e);
      if (attempt >= 4 || errno === undefined || !RETRYABLE.has(errno)) throw e;
      await new Promise((r) => setTimeout(r, 20 * attempt + Math.random() * 30));
    }
  }
}

/** True when the database answers a trivial query. */
export async function isReachable(sequelize: Sequelize): Promise<boolean> {
  try {
    await sequelize.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}
