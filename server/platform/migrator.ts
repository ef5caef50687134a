/**
 * Schema migrations with umzug: `migrations/<timestamp>-<change>.ts`, one change per file, each with `down`.
 * Under tsx (tests, dev) the .ts sources run; the compiled app runs dist/migrations/*.js.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { QueryTypes, type QueryInterface, type Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';
import { ROOT } from '../config.js';

export type MigrationContext = { qi: QueryInterface; sequelize: Sequelize };
export type MigrationFn = (p: { context: MigrationContext }) => Promise<void>;

const compiled = import.meta.url.endsWith('.js');

/**
 * MySQL/MariaDB: tables take the database's default character set when they are created, and a database made
 * with a bare `CREATE DATABASE` on a server whose default is latin1 (MariaDB's and MySQL 5.7's compiled default)
 * cannot hold Chinese. Before any migration runs, the database's default is made utf8mb4; a database that cannot
 * be changed stops the migration with a message saying what to run.
 */
export async function ensureUnicodeDatabase(sequelize: Sequelize, log: (m: string) => void = () => {}): Promise<void> {
  if (sequelize.getDialect() !== 'mysql') return;
  const [row] = await sequelize.query<{ db: string; cs: string }>('SELECT DATABASE() AS db, @@character_set_database AS cs', { type: QueryTypes.SELECT });
  if (!row?.db || row.cs === 'utf8mb4') return;
  const alter = `ALTER DATABASE \`${row.db.replace(/`/g, '``')}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`;
  try {
    await sequelize.query(alter);
  } catch (e) {
    throw new Error(`database ${row.db} uses the ${row.cs} character set, which cannot hold Chinese, and could not be changed (${e instanceof Error ? e.message : String(e)}); run: ${alter}`, { cause: e });
  }
  log(`database ${row.db}: default character set ${row.cs} changed to utf8mb4 before migrating`);
}

export function createMigrator(sequelize: Sequelize, log: (m: string) => void = () => {}) {
  const dir = compiled ? path.join(ROOT, 'dist', 'migrations') : path.join(ROOT, 'migrations');
  const umzug = new Umzug<MigrationContext>({
    migrations: {
      glob: ['[0-9]*.{ts,js}', { cwd: dir, ignore: ['**/*.d.ts', '**/*.map'] }],
      resolve: ({ name, path: file, context }) => {
        const load = () => import(pathToFileURL(file!).href) as Promise<{ up: MigrationFn; down: MigrationFn }>;
        const id = name.replace(/\.(ts|js)$/, '');
        return {
          name: id,
          up: async () => (await load()).up({ context }),
          down: async () => (await load()).down({ context }),
        };
      },
    },
    context: { qi: sequelize.getQueryInterface(), sequelize },
    storage: new SequelizeStorage({ sequelize, tableName: 'schema_migrations' }),
    logger: { info: (m) => log(JSON.stringify(m)), warn: (m) => log(JSON.stringify(m)), error: (m) => log(JSON.stringify(m)), debug: () => {} },
  });
  // Before umzug creates its own table, too.
  umzug.on('beforeCommand', () => ensureUnicodeDatabase(sequelize, log));
  return umzug;
}

export async function migrateUp(sequelize: Sequelize): Promise<string[]> {
  const done = await createMigrator(sequelize).up();
  return done.map((m) => m.name);
}
