/**
 * Schema migrations with umzug: `migrations/<timestamp>-<change>.ts`, one change per file, each with `down`.
 * Under tsx (tests, dev) the .ts sources run; the compiled app runs dist/migrations/*.js.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { QueryInterface, Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';
import { ROOT } from '../config.js';

export type MigrationContext = { qi: QueryInterface; sequelize: Sequelize };
export type MigrationFn = (p: { context: MigrationContext }) => Promise<void>;

const compiled = import.meta.url.endsWith('.js');

export function createMigrator(sequelize: Sequelize, log: (m: string) => void = () => {}) {
  const dir = compiled ? path.join(ROOT, 'dist', 'migrations') : path.join(ROOT, 'migrations');
  return new Umzug<MigrationContext>({
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
}

export async function migrateUp(sequelize: Sequelize): Promise<string[]> {
  const done = await createMigrator(sequelize).up();
  return done.map((m) => m.name);
}
