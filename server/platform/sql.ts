/**
 * Plain SQL on the connections Sequelize holds, for the few hot paths that run on every request or at a
 * deadline (sessions, the screening list, submitting). Sequelize costs about 0.1 ms of the main thread per
 * statement before the database sees it (a stack trace, replacement escaping, result parsing, model
 * instances), and a model read more; a page that needs eight statements pays that eight times.
 *
 * - SQLite: statements run on a read connection of their own (SQLITE_PLAIN_READS), or inside a transaction on
 *   that transaction's connection (the shared writer, see db.ts); each connection keeps its prepared statements
 *   (parsed and planned once), finalised before the connection closes and whenever any DDL runs.
 * - MySQL/MariaDB: a connection from Sequelize's pool (or the transaction's), each text a server-side prepared
 *   statement of that connection (mysql2's `execute`, at most MYSQL_PREPARED_PER_CONNECTION kept per connection,
 *   see db.ts), rows parsed by the driver (DATETIME → Date, UTC: see db.ts).
 *
 * Parameters are always bound (`?`); an array parameter expands to `?, ?, …` (for IN lists), so no `?` may
 * appear inside a string literal of the SQL text. Dates are written the way Sequelize's models write them, in
 * UTC. (Not so Sequelize's own `sequelize.query` replacements: they write a Date in the server's local time, so
 * a query with a Date parameter goes through here.) Rows come back as the driver gives them: SQLite gives DATE
 * columns as text and booleans as 0/1, hence `toDate` / `toBool`. A unique violation becomes Sequelize's
 * UniqueConstraintError and any other failure its DatabaseError, so callers (and withTransaction's deadlock
 * retry) see the same errors as from Sequelize.
 */
import { DatabaseError, DataTypes, UniqueConstraintError, type InferAttributes, type Model, type ModelStatic, type Sequelize, type Transaction } from 'sequelize';

export type Param = string | number | boolean | null | Date | readonly (string | number)[];
export type Row = Record<string, unknown>;

export interface RunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
  /** The id of the row an INSERT created (0 otherwise). */
  lastId: number;
}

export interface Sql {
  readonly dialect: 'sqlite' | 'mysql';
  /**
   * The aggregate that collects `expr` (a `JSON_ARRAY(…)`) over a subquery's rows into one JSON array text,
   * read back with `jsonRows`. Element order is unspecified: sort what comes back. On MariaDB the aggregate
   * keeps its argument in an internal temporary table that is created on disk when the argument can be longer
   * than 512 characters (about 0.3 ms each): for wide rows return one row per item instead (see bundle.ts).
   */
  jsonAgg(expr: string): string;
  /** String concatenation of SQL expressions (`||` in SQLite; MySQL reads `||` as OR unless told otherwise). */
  concat(...exprs: string[]): string;
  all<T = Row>(text: string, params?: readonly Param[], transaction?: Transaction | null): Promise<T[]>;
  one<T = Row>(text: string, params?: readonly Param[], transaction?: Transaction | null): Promise<T | undefined>;
  run(text: string, params?: readonly Param[], transaction?: Transaction | null): Promise<RunResult>;
}

/**
 * SQLite hands DATE columns back as 'YYYY-MM-DD HH:MM:SS.mmm +00:00'; MySQL as Date, or inside JSON as
 * 'YYYY-MM-DD HH:MM:SS.ffffff', which is UTC (the connection's time zone).
 */
export function toDate(v: unknown): Date | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v;
  // The common cases without a regex: a list page reads a few hundred of SQLite's own
  // 'YYYY-MM-DD HH:MM:SS.mmm +00:00', or of MySQL's 'YYYY-MM-DD HH:MM:SS' inside JSON.
  const spaced = typeof v === 'string' && v[10] === ' ';
  let d: Date;
  if (spaced && v.length === 30 && v.endsWith(' +00:00')) d = new Date(`${v.slice(0, 10)}T${v.slice(11, 23)}Z`);
  else if (spaced && v.length === 19) d = new Date(`${v.slice(0, 10)}T${v.slice(11)}Z`);
  else {
    const text = String(v).replace(' ', 'T').replace(' ', '');
    d = new Date(/(Z|[+-]\d\d:?\d\d)$/.test(text) ? text : `${text}Z`);
  }
  return Number.isNaN(d.getTime()) ? null : d;
}

export const toBool = (v: unknown): boolean => v === true || Number(v) === 1;

/**
 * A model's attributes from a plain row of its table (`SELECT t.*`): columns mapped to attributes, dates and
 * booleans read as Sequelize reads them. For hot paths that only read the values: no instance is built.
 */
export function attributesFromRow<M extends Model>(model: ModelStatic<M>, row: Record<string, unknown>): InferAttributes<M> {
  let plan = plans.get(model);
  if (!plan) {
    plan = Object.entries(model.getAttributes()).map(([attr, def]) => ({
      attr,
      field: def.field ?? attr,
      kind: def.type instanceof DataTypes.DATE ? ('date' as const) : def.type instanceof DataTypes.BOOLEAN ? ('bool' as const) : null,
    }));
    plans.set(model, plan);
  }
  const values: Record<string, unknown> = {};
  for (const { attr, field, kind } of plan) {
    const v = row[field];
    values[attr] = kind === 'date' ? toDate(v) : kind === 'bool' ? (v === null || v === undefined ? v : toBool(v)) : v;
  }
  return values as InferAttributes<M>;
}
const plans = new WeakMap<object, Array<{ attr: string; field: string; kind: 'date' | 'bool' | null }>>();

/** A model instance from a plain row of its table (see attributesFromRow); no query. */
export function instanceFromRow<M extends Model>(model: ModelStatic<M>, row: Record<string, unknown>): M {
  return model.build(attributesFromRow(model, row) as never, { isNewRecord: false, raw: true });
}

/**
 * The rows of a `jsonAgg` column: SQLite gives JSON text ('[]' for no rows), MariaDB text, MySQL 8 a parsed
 * value, and both MySQL kinds NULL for no rows.
 */
export function jsonRows<T>(v: unknown): T[] {
  if (v === null || v === undefined) return [];
  return (typeof v === 'string' ? JSON.parse(v) : v) as T[];
}

/**
 * Independent statements of one transaction, issued side by side: one wait for the database instead of one
 * each. Every one of them is waited for before the first error is thrown, so a rollback never overtakes a
 * statement still on its way (on SQLite it would then run outside the transaction).
 */
export async function inParallel<T extends readonly unknown[]>(work: readonly [...{ [K in keyof T]: Promise<T[K]> }]): Promise<T> {
  const settled = await Promise.allSettled(work);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** How Sequelize stores a date in SQLite (text that sorts in time order). */
export function sqliteDate(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', ' +00:00');
}

/**
 * Named parameters (`:name`, as Sequelize's replacements) to positional ones, in the order they appear. For SQL
 * assembled from optional parts, where keeping a positional list in step would be error-prone.
 */
export function named(text: string, values: Record<string, Param>): [string, Param[]] {
  const params: Param[] = [];
  const out = text.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_m, name: string) => {
    if (!(name in values)) throw new Error(`sql: no value for :${name}`);
    params.push(values[name]!);
    return '?';
  });
  return [out, params];
}

/** The text with every array parameter expanded to one placeholder per element, and the flat values. */
export function expand(text: string, params: readonly Param[]): { text: string; values: Array<string | number | boolean | null | Date> } {
  if (!params.some(Array.isArray)) {
    // The drivers would bind a missing value as NULL without a word.
    let placeholders = 0;
    for (let i = text.indexOf('?'); i !== -1; i = text.indexOf('?', i + 1)) placeholders++;
    if (placeholders !== params.length) throw new Error(`sql: ${params.length} parameters for ${placeholders} placeholders in: ${text}`);
    return { text, values: params as Array<string | number | boolean | null | Date> };
  }
  const values: Array<string | number | boolean | null | Date> = [];
  let i = 0;
  const out = text.replace(/\?/g, () => {
    const p = params[i++];
    if (p === undefined) throw new Error(`sql: more placeholders than parameters in: ${text}`);
    if (!Array.isArray(p)) {
      values.push(p as string | number | boolean | null | Date);
      return '?';
    }
    // `IN ()` is not SQL, and `IN (NULL)` would turn a NOT IN into "unknown": the caller decides what an empty list means.
    if (p.length === 0) throw new Error(`sql: empty list parameter in: ${text}`);
    values.push(...(p as Array<string | number>));
    return p.map(() => '?').join(', ');
  });
  if (i !== params.length) throw new Error(`sql: ${params.length} parameters for ${i} placeholders in: ${text}`);
  return { text: out, values };
}

function wrapError(e: unknown): Error {
  const err = e as Error & { code?: string; errno?: number };
  const unique = (err.code === 'SQLITE_CONSTRAINT' && /UNIQUE/.test(err.message)) || err.errno === 1062 || err.code === 'ER_DUP_ENTRY';
  if (unique) return new UniqueConstraintError({ parent: err, message: err.message } as ConstructorParameters<typeof UniqueConstraintError>[0]);
  return new DatabaseError(err as ConstructorParameters<typeof DatabaseError>[0]);
}

// ---- SQLite ---------------------------------------------------------------------------------------------

interface SqliteStatement {
  all(values: unknown[], cb: (e: Error | null, rows: Row[]) => void): unknown;
  run(values: unknown[], cb: (this: { changes: number; lastID: number }, e: Error | null) => void): unknown;
  finalize(cb?: () => void): unknown;
}
interface SqliteConnection {
  prepare(text: string, cb: (e: Error | null) => void): SqliteStatement;
}

const MAX_STATEMENTS = 200;
const statements = new WeakMap<object, Map<string, SqliteStatement>>();
/**
 * Statements being prepared: two requests asking for the same new text share one, instead of the second
 * replacing the first in the cache and leaving it unfinalised.
 */
const preparing = new WeakMap<object, Map<string, Promise<SqliteStatement>>>();

/** Finalise a connection's prepared statements (before it closes, and after DDL: their plans may be stale). */
export function forgetStatements(connection: object): void {
  const cache = statements.get(connection);
  if (!cache) return;
  statements.delete(connection);
  preparing.delete(connection);
  for (const s of cache.values()) s.finalize();
}

function prepared(c: SqliteConnection, text: string): Promise<SqliteStatement> {
  let cache = statements.get(c);
  if (!cache) statements.set(c, (cache = new Map()));
  const hit = cache.get(text);
  if (hit) return Promise.resolve(hit);
  let pending = preparing.get(c);
  if (!pending) preparing.set(c, (pending = new Map()));
  const inFlight = pending.get(text);
  if (inFlight) return inFlight;
  const made = new Promise<SqliteStatement>((resolve, reject) => {
    const s = c.prepare(text, (e) => {
      if (e) return reject(e);
      // The oldest statement goes when the cache is full (texts vary only with filters and IN-list lengths).
      if (cache.size >= MAX_STATEMENTS) {
        const oldest = cache.keys().next().value as string;
        cache.get(oldest)!.finalize();
        cache.delete(oldest);
      }
      // Not kept if the connection forgot its statements meanwhile (DDL, closing): this one may be stale.
      if (statements.get(c) === cache) cache.set(text, s);
      resolve(s);
    });
  });
  pending.set(text, made);
  const done = () => void pending.delete(text);
  made.then(done, done);
  return made;
}

/**
 * Run a statement without parameters through the connection's prepared-statement cache (db.ts sends
 * Sequelize's BEGIN / COMMIT / ROLLBACK here: prepared, each is one trip to SQLite's thread instead of two).
 * The callback gets `this` = the statement, as from the driver's own `all`.
 */
export function allPrepared(c: object, text: string, cb: (this: unknown, e: Error | null, rows?: Row[]) => void): void {
  prepared(c as SqliteConnection, text).then(
    (s) => void s.all([], function (this: unknown, e: Error | null, rows: Row[]) {
      cb.call(this, e, rows);
    }),
    (e: Error) => cb.call(undefined, e),
  );
}

const sqliteValue = (v: unknown) => (v instanceof Date ? sqliteDate(v) : typeof v === 'boolean' ? (v ? 1 : 0) : v);

/**
 * The SQLite connection (Sequelize's connection key) for plain reads outside a transaction: one of their own, not
 * the 'default' one Sequelize's model reads use. node-sqlite3 runs a prepared statement as soon as it is asked,
 * but holds each of Sequelize's queries (sent in its `serialize` mode) until no statement of the connection is in
 * flight; on a shared connection a steady stream of hot-path reads (a page under load, a deadline surge) held
 * every model read back for as long as the stream lasted (a sign-in waited 6 s, until the load stopped).
 */
export const SQLITE_PLAIN_READS = 'plain-reads';

function sqliteSql(sequelize: Sequelize): Sql {
  const cm = sequelize.connectionManager as unknown as { getConnection(o: object): Promise<SqliteConnection> };
  const connectionFor = (t?: Transaction | null) => (t ? Promise.resolve((t as unknown as { connection: SqliteConnection }).connection) : cm.getConnection({ uuid: SQLITE_PLAIN_READS }));
  return {
    dialect: 'sqlite',
    jsonAgg: (expr) => `json_group_array(${expr})`,
    concat: (...exprs) => `(${exprs.join(' || ')})`,
    async all<T>(text: string, params: readonly Param[] = [], t?: Transaction | null) {
      const q = expand(text, params);
      try {
        const s = await prepared(await connectionFor(t), q.text);
        return await new Promise<T[]>((resolve, reject) => s.all(q.values.map(sqliteValue), (e, rows) => (e ? reject(e) : resolve(rows as T[]))));
      } catch (e) {
        throw wrapError(e);
      }
    },
    async one<T>(text: string, params: readonly Param[] = [], t?: Transaction | null) {
      return (await this.all<T>(text, params, t))[0];
    },
    async run(text: string, params: readonly Param[] = [], t?: Transaction | null) {
      const q = expand(text, params);
      try {
        const s = await prepared(await connectionFor(t), q.text);
        return await new Promise<RunResult>((resolve, reject) =>
          s.run(q.values.map(sqliteValue), function (e) {
            if (e) reject(e);
            else resolve({ changes: this.changes, lastId: this.lastID });
          }),
        );
      } catch (e) {
        throw wrapError(e);
      }
    },
  };
}

// ---- MySQL / MariaDB ------------------------------------------------------------------------------------

interface MysqlConnection {
  execute(o: { sql: string; values: unknown[] }, cb: (e: Error | null, result: unknown) => void): unknown;
}

function mysqlSql(sequelize: Sequelize): Sql {
  const cm = sequelize.connectionManager as unknown as { getConnection(o: object): Promise<MysqlConnection>; releaseConnection(c: MysqlConnection): void };
  const exec = async (text: string, params: readonly Param[], t?: Transaction | null): Promise<unknown> => {
    const q = expand(text, params);
    const own = t ? null : await cm.getConnection({ type: 'SELECT' });
    const c = own ?? (t as unknown as { connection: MysqlConnection }).connection;
    try {
      // A server-side prepared statement (mysql2 keeps it per connection, see MYSQL_PREPARED_PER_CONNECTION): the
      // server parses the text once per connection instead of on every request, and values travel bound, never
      // spliced into the text. MariaDB's CPU per screening page fell by a sixth (0.73 → 0.61 ms).
      return await new Promise((resolve, reject) => c.execute({ sql: q.text, values: q.values }, (e, r) => (e ? reject(e) : resolve(r))));
    } catch (e) {
      throw wrapError(e);
    } finally {
      if (own) cm.releaseConnection(own);
    }
  };
  return {
    dialect: 'mysql',
    jsonAgg: (expr) => `JSON_ARRAYAGG(${expr})`,
    concat: (...exprs) => `CONCAT(${exprs.join(', ')})`,
    async all<T>(text: string, params: readonly Param[] = [], t?: Transaction | null) {
      return (await exec(text, params, t)) as T[];
    },
    async one<T>(text: string, params: readonly Param[] = [], t?: Transaction | null) {
      return ((await exec(text, params, t)) as T[])[0];
    },
    async run(text: string, params: readonly Param[] = [], t?: Transaction | null) {
      const r = (await exec(text, params, t)) as { affectedRows: number; insertId: number };
      return { changes: r.affectedRows, lastId: Number(r.insertId) };
    },
  };
}

const instances = new WeakMap<Sequelize, Sql>();

/** The plain-SQL runner of this database (one per Sequelize instance). */
export function sqlOf(sequelize: Sequelize): Sql {
  let s = instances.get(sequelize);
  if (!s) instances.set(sequelize, (s = sequelize.getDialect() === 'sqlite' ? sqliteSql(sequelize) : mysqlSql(sequelize)));
  return s;
}
