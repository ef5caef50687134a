/** `npm run db:migrate` (all pending) and `npm run db:rollback` (the last one, or `-- --to NAME` / `-- --all`). */
import { loadConfig } from '../server/config.js';
import { createSequelize } from '../server/platform/db.js';
import { createMigrator } from '../server/platform/migrator.js';

const [direction, ...rest] = process.argv.slice(2);
const config = loadConfig();
const sequelize = createSequelize({ databaseUrl: config.databaseUrl });
const migrator = createMigrator(sequelize, (m) => console.log(m));
try {
  if (direction === 'up') {
    const done = await migrator.up();
    console.log(done.length ? `applied: ${done.map((m) => m.name).join(', ')}` : 'nothing to apply');
  } else if (direction === 'down') {
    const all = rest.includes('--all');
    const toIdx = rest.indexOf('--to');
    const done = all ? await migrator.down({ to: 0 }) : toIdx >= 0 ? await migrator.down({ to: rest[toIdx + 1]! }) : await migrator.down();
    console.log(done.length ? `rolled back: ${done.map((m) => m.name).join(', ')}` : 'nothing to roll back');
  } else {
    console.error('usage: migrate.js up | down [--all | --to NAME]');
    process.exitCode = 2;
  }
} finally {
  await sequelize.close();
}
