/**
 * The plain-SQL runner (platform/sql.ts) on the test database's dialect: values round-trip as Sequelize writes
 * and reads them, IN lists expand, a unique violation is Sequelize's UniqueConstraintError (so callers' handling
 * is unchanged), statements inside a transaction see its writes and roll back with it, and prepared statements
 * never outlive a schema change.
 */
import { expect } from 'chai';
import { DataTypes, Model, UniqueConstraintError, type Sequelize } from 'sequelize';
import { createSequelize, withTransaction } from '../../server/platform/db.js';
import { expand, inParallel, jsonRows, named, sqlOf, toBool, toDate } from '../../server/platform/sql.js';
import { scratchDatabase, type ScratchDatabase } from './scratch-db.js';

class Item extends Model {
  declare id: number;
  declare code: string;
  declare seenAt: Date | null;
  declare done: boolean;
}

describe('platform: plain SQL on the hot paths', function () {
  let db: ScratchDatabase;
  let sequelize: Sequelize;

  before(async function () {
    db = await scratchDatabase('plain-sql');
    sequelize = createSequelize({ databaseUrl: db.url });
    Item.init(
      { id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true }, code: { type: DataTypes.STRING(40), unique: true }, seenAt: DataTypes.DATE(3), done: DataTypes.BOOLEAN },
      { sequelize, tableName: 'sql_items', underscored: true },
    );
    await Item.sync({ force: true });
  });
  after(async () => {
    await sequelize?.close();
    await db?.drop();
  });
  beforeEach(() => Item.destroy({ where: {} }));

  it('reads what Sequelize wrote and Sequelize reads what it wrote: dates to the millisecond, booleans, ids', async () => {
    const at = new Date('2026-11-24T09:30:15.123Z');
    await Item.create({ code: 'a', seenAt: at, done: true });
    const sql = sqlOf(sequelize);
    const row = await sql.one<{ code: string; seen_at: unknown; done: unknown }>('SELECT code, seen_at, done FROM sql_items WHERE code = ?', ['a']);
    expect(toDate(row!.seen_at)!.toISOString()).to.equal(at.toISOString());
    expect(toBool(row!.done)).to.equal(true);

    const later = new Date('2027-01-02T03:04:05.006Z');
    const ins = await sql.run('INSERT INTO sql_items (code, seen_at, done, created_at, updated_at) VALUES (?, ?, ?, ?, ?)', ['b', later, false, later, later]);
    expect(ins.changes).to.equal(1);
    const b = await Item.findByPk(ins.lastId);
    expect(b!.code).to.equal('b');
    expect(b!.seenAt!.toISOString()).to.equal(later.toISOString());
    expect(b!.done).to.equal(false);
    // Dates compare in time order in SQL, as Sequelize's own queries rely on.
    const after = await sql.all<{ code: string }>('SELECT code FROM sql_items WHERE seen_at > ? ORDER BY code', [new Date('2026-12-01T00:00:00Z')]);
    expect(after.map((r) => r.code)).to.deep.equal(['b']);
  });

  it('expands list parameters, maps named ones in order, and refuses an empty list or a miscount', async () => {
    for (const code of ['x', 'y', 'z']) await Item.create({ code, done: false });
    const sql = sqlOf(sequelize);
    const rows = await sql.all<{ code: string }>('SELECT code FROM sql_items WHERE code IN (?) AND done = ? ORDER BY code', [['x', 'z', 'q'], false]);
    expect(rows.map((r) => r.code)).to.deep.equal(['x', 'z']);
    expect(named('a = :a AND b IN (:b) OR a = :a', { a: 1, b: [2, 3] })).to.deep.equal(['a = ? AND b IN (?) OR a = ?', [1, [2, 3], 1]]);
    expect(() => expand('code IN (?)', [[]])).to.throw(/empty list/);
    expect(() => expand('a = ? AND b = ?', [1])).to.throw(/placeholders/);
    expect(() => named('a = :a', {})).to.throw(/:a/);
  });

  it('reports a duplicate key as UniqueConstraintError, and other failures as Sequelize errors', async () => {
    const sql = sqlOf(sequelize);
    const now = new Date();
    await sql.run('INSERT INTO sql_items (code, created_at, updated_at) VALUES (?, ?, ?)', ['dup', now, now]);
    const e = await sql.run('INSERT INTO sql_items (code, created_at, updated_at) VALUES (?, ?, ?)', ['dup', now, now]).catch((x: unknown) => x);
    expect(e).to.be.instanceOf(UniqueConstraintError);
    const bad = await sql.all('SELECT nope FROM sql_items').catch((x: unknown) => x);
    expect(bad).to.be.instanceOf(Error).and.have.property('name').that.matches(/^Sequelize/);
  });

  it('runs inside a transaction: its reads see its writes, and a rollback takes them back', async () => {
    const sql = sqlOf(sequelize);
    const now = new Date();
    await withTransaction(sequelize, async (t) => {
      await sql.run('INSERT INTO sql_items (code, created_at, updated_at) VALUES (?, ?, ?)', ['kept', now, now], t);
      expect((await sql.one<{ n: number }>('SELECT COUNT(*) AS n FROM sql_items WHERE code = ?', ['kept'], t))!.n).to.equal(1);
    });
    const failed = await withTransaction(sequelize, async (t) => {
      await sql.run('INSERT INTO sql_items (code, created_at, updated_at) VALUES (?, ?, ?)', ['lost', now, now], t);
      await Item.create({ code: 'lost-too' }, { transaction: t });
      throw new Error('stop');
    }).catch((x: unknown) => x);
    expect(failed).to.have.property('message', 'stop');
    const codes = (await sql.all<{ code: string }>('SELECT code FROM sql_items ORDER BY code')).map((r) => r.code);
    expect(codes).to.deep.equal(['kept']);
  });

  it('collects a subquery into one JSON array (jsonAgg): none is [], and text, numbers, NULL and dates come back', async () => {
    const sql = sqlOf(sequelize);
    const at = new Date('2026-11-24T09:30:15.123Z');
    await Item.create({ code: `引号'"\\ 和 <b>`, seenAt: at, done: true });
    await Item.create({ code: 'plain', seenAt: null, done: false });
    const list = (where: string) => `SELECT (SELECT ${sql.jsonAgg('JSON_ARRAY(i.id, i.code, i.seen_at, i.done)')} FROM sql_items i WHERE ${where}) AS j`;
    const none = await sql.one<{ j: unknown }>(list('i.code = ?'), ['nobody']);
    expect(jsonRows(none!.j)).to.deep.equal([]);
    const rows = jsonRows<[number, string, unknown, unknown]>((await sql.one<{ j: unknown }>(list('i.id > ?'), [0]))!.j).sort((a, b) => a[0] - b[0]);
    expect(rows.map((r) => r[1])).to.deep.equal([`引号'"\\ 和 <b>`, 'plain']);
    expect(toDate(rows[0]![2])!.toISOString()).to.equal(at.toISOString());
    expect(rows[1]![2]).to.equal(null);
    expect(rows.map((r) => toBool(r[3]))).to.deep.equal([true, false]);
  });

  it('inParallel: side by side in a transaction, every statement done before a failure is thrown, and all rolled back', async () => {
    const sql = sqlOf(sequelize);
    const now = new Date();
    const insert = (code: string, t: Parameters<typeof sql.run>[2]) => sql.run('INSERT INTO sql_items (code, created_at, updated_at) VALUES (?, ?, ?)', [code, now, now], t);
    const done: string[] = [];
    let doneAtFailure: string[] = [];
    const failed = await withTransaction(sequelize, async (t) => {
      await insert('first', t);
      const refused = Promise.reject(new Error('refused at once'));
      await inParallel([insert('second', t).then(() => done.push('second')), refused, insert('third', t).then(() => done.push('third'))]).catch((e: unknown) => {
        doneAtFailure = [...done];
        throw e;
      });
    }).catch((x: unknown) => x);
    expect(failed).to.have.property('message', 'refused at once');
    expect(doneAtFailure.sort(), 'the other statements had finished when the failure was thrown').to.deep.equal(['second', 'third']);
    expect(await sql.all('SELECT code FROM sql_items'), 'and the rollback took them all back').to.deep.equal([]);
    const dup = await withTransaction(sequelize, (t) => inParallel([insert('dup', t), insert('dup', t)])).catch((x: unknown) => x);
    expect(dup).to.be.instanceOf(UniqueConstraintError);
    const [a, b] = await withTransaction(sequelize, (t) => inParallel([insert('x', t), insert('y', t)]));
    expect([a.changes, b.changes]).to.deep.equal([1, 1]);
    expect((await sql.all<{ code: string }>('SELECT code FROM sql_items ORDER BY code')).map((r) => r.code)).to.deep.equal(['x', 'y']);
  });

  it('answers from the new schema after a column is added (prepared statements are not kept across DDL)', async () => {
    const sql = sqlOf(sequelize);
    await Item.create({ code: 'p' });
    const text = 'SELECT * FROM sql_items WHERE code = ?';
    expect(Object.keys((await sql.one<Record<string, unknown>>(text, ['p']))!)).to.not.include('extra');
    await sequelize.query('ALTER TABLE sql_items ADD COLUMN extra INTEGER');
    try {
      expect(Object.keys((await sql.one<Record<string, unknown>>(text, ['p']))!)).to.include('extra');
    } finally {
      await sequelize.query('ALTER TABLE sql_items DROP COLUMN extra');
    }
  });

  it('a model read is answered while plain reads keep the database busy (a sign-in during a deadline surge)', async () => {
    const sql = sqlOf(sequelize);
    await Item.create({ code: 'busy' });
    // Four requests' worth of hot-path reads, back to back, until the model read is answered or LIMIT have run.
    const LIMIT = 20_000;
    let plain = 0;
    let answered = false;
    const stream = Array.from({ length: 4 }, async () => {
      while (!answered && plain < LIMIT) {
        await sql.all('SELECT id, code FROM sql_items WHERE code = ?', ['busy']);
        plain++;
      }
    });
    while (plain < 100) await new Promise((r) => setImmediate(r));
    const found = await Item.findOne({ where: { code: 'busy' } });
    answered = true;
    const plainWhenAnswered = plain;
    await Promise.all(stream);
    expect(found?.code).to.equal('busy');
    // Answered in the midst of the stream, not only once it ran dry.
    expect(plainWhenAnswered).to.be.below(LIMIT / 2);
  });

  it('toDate reads SQLite text, MySQL JSON text (UTC) and Date alike', () => {
    const iso = '2026-11-24T01:02:03.004Z';
    expect(toDate('2026-11-24 01:02:03.004 +00:00')!.toISOString()).to.equal(iso);
    expect(toDate('2026-11-24 09:02:03.004 +08:00')!.toISOString()).to.equal(iso);
    expect(toDate('2026-11-24 01:02:03.004000')!.toISOString()).to.equal(iso);
    expect(toDate('2026-11-24 01:02:03')!.toISOString()).to.equal('2026-11-24T01:02:03.000Z');
    expect(toDate('2026-11-24 1:02:03x')).to.equal(null);
    expect(toDate('2026-11-24 01:02:03.004 +0000x')).to.equal(null);
    expect(toDate(new Date(iso))!.toISOString()).to.equal(iso);
    expect(toDate(null)).to.equal(null);
    expect(toDate('not a date')).to.equal(null);
  });
});
