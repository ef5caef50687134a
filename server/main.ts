/**
 * Entry point: `npm start` runs the compiled file. Migrates, seeds the demo dataset on first start, serves,
 * and stops gracefully on SIGTERM/SIGINT. WORKERS=n forks n processes sharing the port (node:cluster);
 * with SQLite keep one worker — several need MySQL/MariaDB.
 */
import cluster from 'node:cluster';
import { loadConfig } from './config.js';
import { boot } from './boot.js';
import { sweepAttachmentFiles } from './proposals/attachments.js';
import { DEMO_LOGINS, seedDemo } from './seed/demo.js';
import { migrateUp } from './platform/migrator.js';
import { createSequelize } from './platform/db.js';
import { lowerThreadPoolPriority } from './platform/passwords.js';
import { initModels, releaseModels } from './models.js';

async function runPrimary(workers: number) {
  const config = loadConfig();
  // Migrate and seed once, in the primary, before any worker starts: no worker serves a half-seeded database.
  const sequelize = createSequelize({ databaseUrl: config.databaseUrl });
  initModels(sequelize);
  try {
    await migrateUp(sequelize);
    if (config.seedDemo) await seedDemo(sequelize, config);
  } finally {
    await sequelize.close();
    releaseModels(sequelize);
  }
  for (let i = 0; i < workers; i++) cluster.fork();
  let stopping = false;
  cluster.on('exit', (w, code, signal) => {
    // A worker that died on its own is replaced; none is while the whole service stops.
    if (!stopping && signal !== 'SIGTERM' && code !== 0) cluster.fork();
  });
  const stop = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function runServer(announce: boolean) {
  const config = loadConfig();
  // Before anything uses libuv's pool: its threads (argon2, SQLite, files) yield the CPU to page rendering.
  const lowered = await lowerThreadPoolPriority();
  // A cluster worker finds the database migrated and seeded by the primary.
  const p = await boot(config, cluster.isPrimary ? {} : { migrate: false, seed: false });
  p.logger.debug({ threads: lowered }, 'thread pool priority lowered');
  const server = p.app.listen(config.port, config.host, () => {
    if (!announce) return;
    const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}/`;
    const lines = [
      '',
      `  长三角联合攻关平台 YRD Joint Research Platform`,
      `  Serving on ${url}  (database: ${config.databaseUrl.replace(/\/\/[^@]*@/, '//***@')})`,
      ...(config.seedDemo ? ['', '  Demo logins (password for all: ' + DEMO_LOGINS.password + '):', ...DEMO_LOGINS.users.map((u) => `    ${u.role.padEnd(18)} ${u.email}`)] : []),
      config.smtpUrl ? '' : '  SMTP_URL not set: mail waits in the outbox, readable at /admin/outbox.',
      '',
    ];
    console.log(lines.join('\n'));
  });
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = 5_000;
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    p.logger.info('shutting down');
    try {
      await p.shutdown(server);
    } catch (e) {
      p.logger.error({ err: e }, 'shutdown failed');
      process.exit(1);
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  // Housekeeping, hourly and once at start: expired sessions, and uploaded files no attachment row refers
  // to (left by a crash between writing the file and committing its row).
  const housekeeping = () => {
    void p.sessionStore.prune().catch((err) => p.logger.warn({ err }, 'session prune failed'));
    void sweepAttachmentFiles(config)
      .then((removed) => removed.length && p.logger.info({ removed: removed.length }, 'orphan uploads removed'))
      .catch((err) => p.logger.warn({ err }, 'upload sweep failed'));
  };
  housekeeping();
  setInterval(housekeeping, 3600_000).unref();
}

const workers = loadConfig().workers;
if (workers > 1 && cluster.isPrimary) {
  await runPrimary(workers);
} else {
  await runServer(cluster.isPrimary || cluster.worker?.id === 1);
}
