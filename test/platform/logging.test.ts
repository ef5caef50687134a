/**
 * Structured request logs: one JSON line per request with the request id the response carries; a sane
 * X-Request-Id from a proxy is kept, anything else replaced; no cookies, query strings or tokens in the log.
 */
import { expect } from 'chai';
import supertest from 'supertest';
import type { DestinationStream } from 'pino';
import { createApp } from '../../server/app.js';
import { createLogger } from '../../server/platform/logger.js';
import { platform, resetDb, testConfig } from '../support/platform.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Line {
  level: number;
  pid: number;
  req?: { id: string; method: string; url: string };
  res?: { statusCode: number };
  responseTime?: number;
}

describe('request logging', () => {
  let raw: string[];
  let request: ReturnType<typeof supertest>;

  beforeEach(async () => {
    await resetDb();
    raw = [];
    const stream: DestinationStream = { write: (s: string) => void raw.push(s) };
    const p = await platform();
    const { app } = createApp({ config: testConfig({ LOG_LEVEL: 'info' }), sequelize: p.sequelize, logger: createLogger('info', stream), kickOutbox: () => {} });
    request = supertest(app);
  });

  /** The request's log line (written when the response finishes, so wait a moment for it). */
  async function lineFor(id: string): Promise<Line> {
    for (let i = 0; i < 50; i++) {
      const line = raw.map((s) => JSON.parse(s) as Line).find((l) => l.req?.id === id);
      if (line) return line;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no log line for request ${id}; got ${raw.join('')}`);
  }

  it('every response carries a request id, and its log line is JSON with the same id', async () => {
    const res = await request.get('/login');
    expect(res.status).to.equal(200);
    const id = res.headers['x-request-id'] as string;
    expect(id).to.match(UUID);
    const line = await lineFor(id);
    expect(line).to.include({ level: 30, pid: process.pid });
    expect(line.req).to.deep.equal({ id, method: 'GET', url: '/login' });
    expect(line.res).to.deep.equal({ statusCode: 200 });
    expect(line.responseTime).to.be.a('number');
    const other = await request.get('/login');
    expect(other.headers['x-request-id']).to.match(UUID).and.not.equal(id);
  });

  it('keeps a sane X-Request-Id given by a proxy', async () => {
    const given = 'edge-7f3a9c.req_0042';
    const res = await request.get('/login').set('X-Request-Id', given);
    expect(res.headers['x-request-id']).to.equal(given);
    expect((await lineFor(given)).req!.url).to.equal('/login');
  });

  for (const insane of ['short', 'x'.repeat(65), 'with space 1234', '<script>alert(1)</script>', '../../etc/passwd', "id';DROP TABLE users;--"]) {
    it(`replaces an insane X-Request-Id (${insane.slice(0, 20)}…) with its own`, async () => {
      const res = await request.get('/login').set('X-Request-Id', insane);
      const id = res.headers['x-request-id'] as string;
      expect(id).to.match(UUID);
      await lineFor(id);
      expect(raw.join('')).not.to.contain(insane);
    });
  }

  it('keeps cookies, query strings and tokens in the path out of the log', async () => {
    const token = 'Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5';
    const res = await request.get(`/password/reset/${token}?email=secret%40example.org`).set('Cookie', 'yrd.sid=s%3Asecret-session-id');
    const line = await lineFor(res.headers['x-request-id'] as string);
    expect(line.req!.url).to.equal('/password/reset/:token');
    const all = raw.join('');
    for (const secret of [token, 'secret-session-id', 'secret%40example.org', 'secret@example.org']) expect(all).not.to.contain(secret);
  });

  it('does not log the probes, and logs a 404 as a warning', async () => {
    const probe = await request.get('/healthz');
    expect(probe.status).to.equal(200);
    expect(probe.headers['x-request-id']).to.match(UUID);
    const missing = await request.get('/no-such-page');
    expect(missing.status).to.equal(404);
    const line = await lineFor(missing.headers['x-request-id'] as string);
    expect(line.level).to.equal(40);
    expect(line.res!.statusCode).to.equal(404);
    expect(raw.some((s) => s.includes('/healthz'))).to.equal(false);
  });
});
