/**
 * One platform per test run: a fresh SQLite file (or the MariaDB/MySQL database in DATABASE_URL), migrated,
 * with the app built the same way `npm start` builds it. `resetDb()` empties every table between tests.
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { QueryTypes } from 'sequelize';
import { loadConfig, ROOT } from '../../server/config.js';
import { boot } from '../../server/boot.js';
import { PROVINCES } from '../../server/seed/demo.js';
import { Province } from '../../server/people/models.js';
import { forgetCachedReads } from '../../server/platform/read-cache.js';

export type Platform = Awaited<ReturnType<typeof boot>>;

let current: Promise<Platform> | null = null;

let sqliteUrl: string | null = null;

/** The run's database: DATABASE_URL, or a fresh SQLite file per test process (created once). */
export function testDatabaseUrl(): string {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  if (sqliteUrl) return sqliteUrl;
  const dir = path.join(ROOT, 'var', 'test');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `test-${process.pid}.sqlite`);
  for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  sqliteUrl = `sqlite:${path.relative(ROOT, file)}`;
  return sqliteUrl;
}

/** The run's upload directory: one per test process under var/test/, removed when the platform closes. */
export const TEST_UPLOAD_DIR = path.join(ROOT, 'var', 'test', `uploads-${process.pid}`);

export function testConfig(overrides: Record<string, string> = {}) {
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', SEED_DEMO: 'false', DATABASE_URL: testDatabaseUrl(), BASE_URL: 'http://127.0.0.1:3000', HASH_CONCURRENCY: '2', UPLOAD_DIR: path.relative(ROOT, TEST_UPLOAD_DIR), ...overrides });
}

export function platform(): Promise<Platform> {
  current ??= boot(testConfig(), { seed: false, startWorker: false });
  return current;
}

export async function closePlatform(): Promise<void> {
  if (!current) return;
  const p = await current;
  current = null;
  await p.shutdown(null);
  rmSync(TEST_UPLOAD_DIR, { recursive: true, force: true });
}

/** Empty every table (keeping the schema), then put the four provinces back. */
export async function resetDb(): Promise<void> {
  const { sequelize } = await platform();
  const dialect = sequelize.getDialect();
  if (dialect === 'sqlite') {
    const tables = await sequelize.query<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'",
      { type: QueryTypes.SELECT },
    );
    // Audit rows are append-only for the app; the test reset lifts the guard for a moment.
    await sequelize.query('DROP TRIGGER IF EXISTS audit_events_no_delete');
    await sequelize.query('PRAGMA foreign_keys = OFF');
    for (const t of tables) await sequelize.query(`DELETE FROM "${t.name}"`);
    await sequelize.query("DELETE FROM sqlite_sequence").catch(() => undefined);
    await sequelize.query('PRAGMA foreign_keys = ON');
    await sequelize.query(`CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END`);
  } else {
    const tables = await sequelize.query<{ t: string }>(
      "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'",
      { type: QueryTypes.SELECT },
    );
    // One connection for the whole reset (the FK switch is per connection); TRUNCATE fires no trigger.
    await sequelize.transaction(async (transaction) => {
      await sequelize.query('SET FOREIGN_KEY_CHECKS = 0', { transaction });
      for (const t of tables) await sequelize.query(`TRUNCATE TABLE \`${t.t}\``, { transaction });
      await sequelize.query('SET FOREIGN_KEY_CHECKS = 1', { transaction });
    });
  }
  // Ids start again from 1: nothing the app keeps in memory about the old rows may answer for the new ones.
  forgetCachedReads();
  await Province.bulkCreate(PROVINCES);
}
