/**
 * SQLite only: the cached `PRAGMA table_info` answers (db.ts) must never make Sequelize mis-read a column —
 * dates come back as Date and booleans as booleans, also for a column added after the table was first read.
 */
import { expect } from 'chai';
import { DataTypes, Model, type Sequelize } from 'sequelize';
import { createSequelize, dialectOf, withTransaction } from '../../server/platform/db.js';
import { scratchDatabase, type ScratchDatabase } from './scratch-db.js';

class Probe extends Model {
  declare id: number;
  declare label: string;
  declare seenAt: Date | null;
  declare done: boolean;
}

describe('platform: SQLite schema answers are cached but never stale', function () {
  let db: ScratchDatabase;
  let sequelize: Sequelize;

  before(async function () {
    if (process.env.DATABASE_URL && dialectOf(process.env.DATABASE_URL) !== 'sqlite') return this.skip();
    db = await scratchDatabase('schema-cache');
    sequelize = createSequelize({ databaseUrl: db.url });
    await sequelize.query('CREATE TABLE probes (id INTEGER PRIMARY KEY, label VARCHAR(40) NOT NULL, created_at DATETIME, updated_at DATETIME)');
  });
  after(async () => {
    await sequelize?.close();
    await db?.drop();
  });

  it('parses a DATETIME and a BOOLEAN column added after the table was read, in and out of transactions', async () => {
    Probe.init({ id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true }, label: DataTypes.STRING(40) }, { sequelize, tableName: 'probes', underscored: true });
    await Probe.create({ label: 'before' });
    expect((await Probe.findAll()).map((p) => p.label)).to.deep.equal(['before']); // table_info read and cached

    await sequelize.query('ALTER TABLE probes ADD COLUMN seen_at DATETIME');
    await sequelize.query('ALTER TABLE probes ADD COLUMN done TINYINT(1) NOT NULL DEFAULT 0');
    Probe.init(
      { id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true }, label: DataTypes.STRING(40), seenAt: DataTypes.DATE, done: DataTypes.BOOLEAN },
      { sequelize, tableName: 'probes', underscored: true },
    );
    const at = new Date('2026-11-23T10:00:00.123Z');
    await withTransaction(sequelize, (t) => Probe.create({ label: 'after', seenAt: at, done: true }, { transaction: t }));
    for (const read of [() => Probe.findOne({ where: { label: 'after' } }), () => withTransaction(sequelize, (t) => Probe.findOne({ where: { label: 'after' }, transaction: t }))]) {
      const p = (await read())!;
      expect(p.seenAt).to.be.instanceOf(Date);
      expect(p.seenAt!.toISOString()).to.equal(at.toISOString());
      expect(p.done).to.equal(true);
    }
  });
});
