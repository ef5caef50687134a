/**
 * Migrations: every file is timestamped with an `up` and a `down`; on a private database (SQLite file, or a
 * scratch MariaDB database) each `down` undoes exactly its own `up`, and up → down all → up gives the same schema.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { QueryTypes, type Sequelize } from 'sequelize';
import { ROOT } from '../../server/config.js';
import { createSequelize } from '../../server/platform/db.js';
import { createMigrator } from '../../server/platform/migrator.js';
import { ensureBuilt } from './build.js';
import { scratchDatabase, type ScratchDatabase } from './scratch-db.js';

const DIR = path.join(ROOT, 'migrations');
const files = () => readdirSync(DIR).filter((f) => /^\d/.test(f) && f.endsWith('.ts')).sort();

/** Everything migrations create, in a comparable form: tables, columns, indexes, foreign keys, triggers. */
async function schemaOf(sequelize: Sequelize): Promise<string[]> {
  const q = <T extends object>(sql: string) => sequelize.query<T>(sql, { type: QueryTypes.SELECT });
  if (sequelize.getDialect() === 'sqlite') {
    const rows = await q<{ type: string; name: string; sql: string | null }>(
      "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND tbl_name <> 'schema_migrations' ORDER BY type, name",
    );
    return rows.map((r) => `${r.type} ${r.name}: ${(r.sql ?? '').replace(/\s+/g, ' ')}`);
  }
  const columns = await q<Record<string, unknown>>(
    "SELECT table_name t, column_name c, column_type ty, is_nullable n, column_default d, extra e FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name <> 'schema_migrations' ORDER BY table_name, ordinal_position",
  );
  const indexes = await q<Record<string, unknown>>(
    "SELECT table_name t, index_name i, column_name c, seq_in_index s, non_unique u FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name <> 'schema_migrations' ORDER BY table_name, index_name, seq_in_index",
  );
  const fks = await q<Record<string, unknown>>(
    'SELECT constraint_name k, table_name t, referenced_table_name r, update_rule u, delete_rule d FROM information_schema.referential_constraints WHERE constraint_schema = DATABASE() ORDER BY table_name, constraint_name',
  );
  const checks = await q<Record<string, unknown>>(
    'SELECT table_name t, constraint_name k, check_clause c FROM information_schema.check_constraints WHERE constraint_schema = DATABASE() ORDER BY table_name, constraint_name',
  );
  const triggers = await q<Record<string, unknown>>(
    'SELECT trigger_name k, event_object_table t, action_timing w, event_manipulation m FROM information_schema.triggers WHERE trigger_schema = DATABASE() ORDER BY trigger_name',
  );
  return [
    ...columns.map((r) => `column ${JSON.stringify(r)}`),
    ...indexes.map((r) => `index ${JSON.stringify(r)}`),
    ...fks.map((r) => `fk ${JSON.stringify(r)}`),
    ...checks.map((r) => `check ${JSON.stringify(r)}`),
    ...triggers.map((r) => `trigger ${JSON.stringify(r)}`),
  ];
}

const tablesIn = (schema: string[]) => new Set(schema.map((s) => /^table (\w+)/.exec(s)?.[1] ?? /"t":"(\w+)"/.exec(s)?.[1]).filter(Boolean));

describe('migrations', function () {
  this.timeout(180_000);
  let db: ScratchDatabase;
  let sequelize: Sequelize;

  before(async () => {
    db = await scratchDatabase('migrations');
    sequelize = createSequelize({ databaseUrl: db.url });
  });
  after(async () => {
    await sequelize?.close();
    await db?.drop();
  });

  it('every migration is a timestamped file with an up and a down', async () => {
    const names = files();
    expect(names.length).to.be.greaterThan(5);
    const stamps = new Set<string>();
    for (const f of names) {
      expect(f, 'name: <yyyymmddhhmmss>-<change>.ts').to.match(/^\d{14}-[a-z0-9]+(?:-[a-z0-9]+)*\.ts$/);
      const stamp = f.slice(0, 14);
      expect(stamps.has(stamp), `two migrations share the timestamp ${stamp}`).to.equal(false);
      stamps.add(stamp);
      const m = (await import(pathToFileURL(path.join(DIR, f)).href)) as { up?: unknown; down?: unknown };
      expect(m.up, `${f} has no up`).to.be.a('function');
      expect(m.down, `${f} has no down`).to.be.a('function');
    }
  });

  it('each down undoes exactly its own up; up → down all → up gives the same schema', async () => {
    const migrator = createMigrator(sequelize);
    const names = files().map((f) => f.replace(/\.ts$/, ''));
    expect((await migrator.pending()).map((m) => m.name)).to.deep.equal(names);

    // Up one step at a time, remembering the schema after each step.
    const after: string[][] = [await schemaOf(sequelize)];
    expect(after[0]).to.deep.equal([]);
    for (const name of names) {
      const done = await migrator.up({ step: 1 });
      expect(done.map((m) => m.name)).to.deep.equal([name]);
      const schema = await schemaOf(sequelize);
      expect(schema, `${name} changed nothing`).to.not.deep.equal(after[after.length - 1]);
      after.push(schema);
    }
    const full = after[after.length - 1]!;
    for (const t of ['users', 'user_roles', 'sessions', 'audit_events', 'outbox_messages']) expect(tablesIn(full).has(t), `no table ${t}`).to.equal(true);
    expect((await migrator.executed()).length).to.equal(names.length);

    // Down one step at a time: each leaves the schema as it was before that migration's up.
    for (let i = names.length - 1; i >= 0; i--) {
      const undone = await migrator.down();
      expect(undone.map((m) => m.name)).to.deep.equal([names[i]]);
      expect(await schemaOf(sequelize), `down of ${names[i]} did not restore the schema`).to.deep.equal(after[i]);
    }
    expect(await migrator.executed()).to.deep.equal([]);
    expect(await schemaOf(sequelize)).to.deep.equal([]);

    // And all the way up again in one go.
    expect((await migrator.up()).map((m) => m.name)).to.deep.equal(names);
    expect(await schemaOf(sequelize)).to.deep.equal(full);
  });

  it('MySQL: on a database created with a latin1 default, migrating makes every table utf8mb4, so Chinese is stored', async function () {
    if (db.dialect !== 'mysql') return this.skip();
    const latin = await scratchDatabase('migrations_latin1', { charset: 'latin1' });
    const s = createSequelize({ databaseUrl: latin.url });
    try {
      await createMigrator(s).up();
      const q = <T extends object>(sql: string) => s.query<T>(sql, { type: QueryTypes.SELECT });
      const tables = await q<{ t: string; c: string }>("SELECT table_name AS t, table_collation AS c FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name <> 'schema_migrations'");
      expect(tables.length).to.be.greaterThan(20);
      expect(tables.filter((x) => !x.c.startsWith('utf8mb4')).map((x) => x.t)).to.deep.equal([]);
      await s.query("INSERT INTO provinces (code, name_zh, name_en, sort_order) VALUES ('XX', '长三角𠀀', 'YRD', 99)");
      expect(await q<{ n: string }>("SELECT name_zh AS n FROM provinces WHERE code = 'XX'")).to.deep.equal([{ n: '长三角𠀀' }]);
    } finally {
      await s.close();
      await latin.drop();
    }
  });

  it('npm run db:migrate / db:rollback work from the compiled files', async () => {
    await ensureBuilt();
    await createMigrator(sequelize).down({ to: 0 });
    const run = async (...args: string[]) => {
      const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'dist', 'scripts', 'migrate.js'), ...args], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'silent' },
        timeout: 120_000,
      });
      return stdout;
    };
    const names = files().map((f) => f.replace(/\.ts$/, ''));
    const count = async () => (await sequelize.query('SELECT name FROM schema_migrations', { type: QueryTypes.SELECT })).length;

    expect(await run('up')).to.contain(`applied: ${names[0]}`);
    expect(await count()).to.equal(names.length);
    expect(await run('down')).to.contain(`rolled back: ${names[names.length - 1]}`);
    expect(await count()).to.equal(names.length - 1);
    expect(await run('down', '--all')).to.contain(`rolled back: ${names[names.length - 2]}`);
    expect(await count()).to.equal(0);
    expect(await schemaOf(sequelize)).to.deep.equal([]);
    expect(await run('up')).to.contain('applied:');
    expect(await run('up')).to.contain('nothing to apply');
    expect(await count()).to.equal(names.length);
  });
});
