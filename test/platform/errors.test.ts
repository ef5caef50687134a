/**
 * SECURITY's faults: "database stopped or connection killed mid-transaction → rollback, 503, recovery without
 * restart". The error is the real one: a MySQL connection killed from another session in the middle of a
 * transaction (on SQLite, the driver's SQLITE_BUSY / SQLITE_FULL as Sequelize wraps them).
 */
import { expect } from 'chai';
import express from 'express';
import { DatabaseError, QueryTypes } from 'sequelize';
import supertest from 'supertest';
import { pino } from 'pino';
import { createSequelize, withTransaction } from '../../server/platform/db.js';
import { databaseUnavailable, errorHandler } from '../../server/platform/errors.js';
import { setupViews } from '../../server/platform/views.js';
import { scratchDatabase, type ScratchDatabase } from './scratch-db.js';

/** The error a statement gets when its connection is killed mid-transaction; null on SQLite. */
async function killedMidTransaction(db: ScratchDatabase): Promise<{ err: unknown; rolledBack: boolean; next: unknown }> {
  const s = createSequelize({ databaseUrl: db.url });
  const killer = createSequelize({ databaseUrl: db.url, poolMax: 1 });
  try {
    await s.query('CREATE TABLE kill_probe (id INTEGER PRIMARY KEY)');
    const err = await withTransaction(s, async (t) => {
      await s.query('INSERT INTO kill_probe (id) VALUES (1)', { transaction: t });
      const [{ id }] = await s.query<{ id: number }>('SELECT CONNECTION_ID() AS id', { type: QueryTypes.SELECT, transaction: t });
      await killer.query(`KILL ${Number(id)}`);
      // KILL returns before the server has closed the connection: wait until it is gone.
      for (let i = 0; i < 100; i++) {
        const [{ n }] = await killer.query<{ n: number }>('SELECT COUNT(*) AS n FROM information_schema.processlist WHERE id = ?', { replacements: [Number(id)], type: QueryTypes.SELECT });
        if (Number(n) === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await s.query('INSERT INTO kill_probe (id) VALUES (2)', { transaction: t });
    }).then(
      () => null,
      (e: unknown) => e,
    );
    const rows = await s.query('SELECT id FROM kill_probe', { type: QueryTypes.SELECT });
    return { err, rolledBack: rows.length === 0, next: await s.query('SELECT 1 AS ok', { type: QueryTypes.SELECT }) };
  } finally {
    await Promise.all([s.close(), killer.close()]);
  }
}

function appThrowing(err: unknown, logged: unknown[]) {
  const app = express();
  setupViews(app, true);
  app.use((_req, res, next) => ((res.locals.lang = 'zh-CN'), (res.locals.htmlLang = 'zh-CN'), (res.locals.nav = []), next()));
  app.get('/page', () => {
    throw err;
  });
  const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  app.use(errorHandler(logger));
  return app;
}

describe('platform: the database failing under a request', function () {
  this.timeout(60_000);
  let db: ScratchDatabase;
  before(async () => {
    db = await scratchDatabase('errors');
  });
  after(async () => db.drop());

  it('MySQL: a connection killed mid-transaction rolls back, the request is a 503 the user can retry, and the next statement works', async function () {
    if (db.dialect !== 'mysql') return this.skip();
    const { err, rolledBack, next } = await killedMidTransaction(db);
    expect(err, 'the statement after the kill fails').to.be.instanceOf(Error);
    expect(rolledBack, 'the first insert is undone').to.equal(true);
    expect(next).to.deep.equal([{ ok: 1 }]);
    const logged: unknown[] = [];
    const res = await supertest(appThrowing(err, logged)).get('/page');
    expect(res.status).to.equal(503);
    expect(res.text).to.contain('<html').and.not.contain('EPIPE').and.not.contain('at ');
    expect(logged).to.have.length(1);
  });

  it('a full disk anywhere (not only the attachment upload, which has its own message) is a 507 saying so, and logged', async () => {
    const logged: unknown[] = [];
    const res = await supertest(appThrowing(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }), logged)).get('/page');
    expect(res.status).to.equal(507);
    expect(res.text).to.contain('存储空间不足').and.contain('服务器存储空间已满，本次操作没有保存任何内容。').and.not.contain('ENOSPC');
    expect(logged).to.have.length(1);
  });

  it('SQLite busy, full or failing, and a refused connection, are 503; a constraint violation stays 500', () => {
    const wrapped = (code: string) => new DatabaseError(Object.assign(new Error(`${code}: failure`), { code, sql: 'x', parameters: {} }) as never);
    for (const code of ['SQLITE_BUSY', 'SQLITE_FULL', 'SQLITE_IOERR', 'ECONNRESET', 'PROTOCOL_CONNECTION_LOST', 'ER_LOCK_WAIT_TIMEOUT']) expect(databaseUnavailable(wrapped(code)), code).to.equal(true);
    expect(databaseUnavailable(Object.assign(new Error('refused'), { name: 'SequelizeConnectionRefusedError' }))).to.equal(true);
    for (const code of ['SQLITE_CONSTRAINT', 'ER_DUP_ENTRY', 'ER_NO_SUCH_TABLE']) expect(databaseUnavailable(wrapped(code)), code).to.equal(false);
    expect(databaseUnavailable(new DatabaseError(Object.assign(new Error("Can't add new command when connection is in closed state"), { fatal: true, sql: 'x', parameters: {} }) as never)), 'mysql2 fatal').to.equal(true);
    expect(databaseUnavailable(new Error('plain'))).to.equal(false);
  });
});
