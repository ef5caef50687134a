/**
 * withTransaction: what callers rely on, on both databases — a failed transaction leaves nothing behind and the
 * next one works; concurrent writers all land (SQLite: queued on its one writer connection; MySQL: row locks);
 * a reader outside the transaction never sees uncommitted rows.
 */
import { expect } from 'chai';
import { QueryTypes, type Sequelize } from 'sequelize';
import { createSequelize, withTransaction } from '../../server/platform/db.js';
import { scratchDatabase, type ScratchDatabase } from './scratch-db.js';

describe('platform: transactions', function () {
  let db: ScratchDatabase;
  let sequelize: Sequelize;
  /** Another process's view: its own connections, so a reader never waits for the writers' pool. */
  let reader: Sequelize;
  const count = async () => (await reader.query<{ n: number }>('SELECT COUNT(*) AS n FROM tx_probe', { type: QueryTypes.SELECT }))[0]!.n;

  before(async () => {
    db = await scratchDatabase('transactions');
    sequelize = createSequelize({ databaseUrl: db.url });
    reader = createSequelize({ databaseUrl: db.url, poolMax: 2 });
    await sequelize.query('CREATE TABLE tx_probe (id INTEGER PRIMARY KEY, label VARCHAR(40) NOT NULL UNIQUE)');
  });
  after(async () => {
    await Promise.all([sequelize.close(), reader.close()]);
    await db.drop();
  });

  it('rolls a failed transaction back completely, and the next transaction still commits', async () => {
    const err = await withTransaction(sequelize, async (t) => {
      await sequelize.query("INSERT INTO tx_probe (id, label) VALUES (1, 'a')", { transaction: t });
      await sequelize.query("INSERT INTO tx_probe (id, label) VALUES (2, 'a')", { transaction: t }); // UNIQUE violation
    }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(Error);
    expect(Number(await count())).to.equal(0);
    await withTransaction(sequelize, (t) => sequelize.query("INSERT INTO tx_probe (id, label) VALUES (3, 'b')", { transaction: t }));
    expect(Number(await count())).to.equal(1);
  });

  it('lands every one of 50 concurrent transactions, and readers never see a half-done one', async () => {
    await sequelize.query('DELETE FROM tx_probe');
    const seen: number[] = [];
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        withTransaction(sequelize, async (t) => {
          await sequelize.query(`INSERT INTO tx_probe (id, label) VALUES (${100 + 2 * i}, 'x${i}')`, { transaction: t });
          seen.push(Number(await count())); // outside the transaction: only committed pairs
          await sequelize.query(`INSERT INTO tx_probe (id, label) VALUES (${101 + 2 * i}, 'y${i}')`, { transaction: t });
        }),
      ),
    );
    expect(Number(await count())).to.equal(100);
    expect(seen.every((n) => n % 2 === 0), `odd counts seen: ${seen.filter((n) => n % 2)}`).to.equal(true);
  });

  it('MySQL: refuses a value that does not fit its column instead of cutting it, even on a server set to a lax mode', async function () {
    if (sequelize.getDialect() !== 'mysql') return this.skip();
    // The server's own default for new sessions is made lax for this test; the app's connections must not care.
    const [{ mode }] = await sequelize.query<{ mode: string }>('SELECT @@GLOBAL.sql_mode AS mode', { type: QueryTypes.SELECT });
    // Needs the SUPER privilege (CI's root has it); without it the test cannot set the scene.
    if (await sequelize.query("SET GLOBAL sql_mode = ''").then(() => false, () => true)) return this.skip();
    const fresh = createSequelize({ databaseUrl: db.url, poolMax: 1 });
    try {
      const err = await fresh.query(`INSERT INTO tx_probe (id, label) VALUES (90, '${'长'.repeat(41)}')`).catch((e: unknown) => e);
      expect(err, 'a 41-character label in a VARCHAR(40)').to.be.instanceOf(Error);
      const grouped = await fresh.query('SELECT label, COUNT(*) FROM tx_probe GROUP BY id').catch((e: unknown) => e);
      expect(grouped, 'ONLY_FULL_GROUP_BY, as MySQL 8').to.be.instanceOf(Error);
      expect(await reader.query('SELECT id FROM tx_probe WHERE id = 90', { type: QueryTypes.SELECT })).to.deep.equal([]);
    } finally {
      await sequelize.query('SET GLOBAL sql_mode = ?', { replacements: [mode] });
      await fresh.close();
    }
  });

  it('MySQL: reads what others committed meanwhile (READ COMMITTED, with no SET per transaction); a serializable one locks what it read, for that transaction only', async function () {
    if (db.dialect !== 'mysql') this.skip();
    // One connection, so every transaction below runs on the same one.
    const one = createSequelize({ databaseUrl: db.url, poolMax: 1 });
    const label = async (t: Parameters<Parameters<typeof withTransaction>[1]>[0]) =>
      (await one.query<{ label: string }>('SELECT label FROM tx_probe WHERE id = 900', { type: QueryTypes.SELECT, transaction: t }))[0]!.label;
    const statements: string[] = [];
    try {
      await reader.query("INSERT INTO tx_probe (id, label) VALUES (900, 'v1')");
      const seen = await withTransaction(one, async (t) => {
        const before = await label(t);
        await reader.query("UPDATE tx_probe SET label = 'v2' WHERE id = 900");
        return [before, await label(t)];
      });
      expect(seen, 'REPEATABLE READ would show v1 twice').to.deep.equal(['v1', 'v2']);

      const blocked = await withTransaction(
        one,
        async (t) => {
          await label(t);
          return reader.transaction(async (other) => {
            await reader.query('SET SESSION innodb_lock_wait_timeout = 1', { transaction: other });
            return reader.query("UPDATE tx_probe SET label = 'v3' WHERE id = 900", { transaction: other }).then(() => 'updated', (e: Error) => e.message);
          });
        },
        { serializable: true },
      );
      expect(blocked).to.match(/Lock wait timeout/i);

      (one as unknown as { options: { logging: (sql: string) => void } }).options.logging = (sql) => void statements.push(sql);
      const after = await withTransaction(one, async (t) => {
        const before = await label(t);
        await reader.query("UPDATE tx_probe SET label = 'v4' WHERE id = 900");
        return [before, await label(t)];
      });
      expect(after, 'the next transaction on that connection reads committed again').to.deep.equal(['v2', 'v4']);
      expect(statements.filter((q) => /ISOLATION/i.test(q))).to.deep.equal([]);
    } finally {
      await one.close();
      await reader.query('DELETE FROM tx_probe WHERE id = 900');
    }
  });
});
