/**
 * Builds a running platform from a config: database, models, migrations, optional demo seed, app, outbox
 * worker. Used by main.ts, the tests and the benchmark so they all start the same way.
 */
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createApp, type AppState } from './app.js';
import { createSequelize } from './platform/db.js';
import { createLogger } from './platform/logger.js';
import { OutboxWorker } from './platform/mail/worker.js';
import { migrateUp } from './platform/migrator.js';
import { setHashConcurrency } from './platform/passwords.js';
import { initModels, releaseModels } from './models.js';
import { seedDemo } from './seed/demo.js';
import { sendReviewReminders } from './review/review-service.js';

export async function boot(config: Config, o: { migrate?: boolean; seed?: boolean; logger?: Logger; startWorker?: boolean } = {}) {
  const logger = o.logger ?? createLogger(config.logLevel);
  const sequelize = createSequelize({ databaseUrl: config.databaseUrl, poolMax: config.dbPoolMax });
  initModels(sequelize);
  setHashConcurrency(config.hashConcurrency);
  if (o.migrate ?? true) await migrateUp(sequelize);
  const seeded = (o.seed ?? config.seedDemo) ? await seedDemo(sequelize, config) : null;
  const worker = new OutboxWorker({ sequelize, logger, smtpUrl: config.smtpUrl, from: config.mailFrom, intervalMs: config.outboxIntervalMs });
  const state: AppState = { ready: true };
  const { app, sessionStore } = createApp({ config, sequelize, logger, kickOutbox: () => void worker.kick().catch((e) => logger.error({ err: e }, 'outbox')) }, state);
  let reminders: NodeJS.Timeout | null = null;
  if (o.startWorker ?? true) {
    worker.start();
    // Review reminders (issue: review): hourly; each expert gets at most one per day.
    reminders = setInterval(() => {
      sendReviewReminders(sequelize, new Date(), { baseUrl: config.baseUrl })
        .then((n) => (n ? worker.kick() : undefined))
        .catch((e) => logger.error({ err: e }, 'review reminders'));
    }, 3600_000);
    reminders.unref();
  }

  /** Graceful stop: not ready first, stop accepting, let in-flight requests finish (bounded), then close. */
  async function shutdown(server: Server | null, deadlineMs = 10_000): Promise<void> {
    state.ready = false;
    if (reminders) clearInterval(reminders);
    if (server) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.closeAllConnections();
          resolve();
        }, deadlineMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
    }
    try {
      await worker.stop();
      await sequelize.close();
    } finally {
      // Even when closing fails (e.g. the connection is already gone), give the models back.
      releaseModels(sequelize);
    }
  }

  return { app, sequelize, logger, worker, sessionStore, state, seeded, shutdown };
}
