import { expect } from 'chai';
import path from 'node:path';
import { rmSync } from 'node:fs';
import supertest from 'supertest';
import { QueryTypes } from 'sequelize';
import { platform, resetDb, testConfig } from '../support/platform.js';
import { makeUser } from '../support/factories.js';
import { newAgent, signIn, signedInAgent } from '../support/agent.js';
import { createApp } from '../../server/app.js';
import { boot } from '../../server/boot.js';
import { ROOT } from '../../server/config.js';
import { sqlOf } from '../../server/platform/sql.js';
import { DbSessionStore } from '../../server/platform/session-store.js';

async function sessionRows() {
  const { sequelize } = await platform();
  return sequelize.query<{ sid: string; data: string; expires: string | Date; user_id: number | null }>('SELECT sid, data, expires, user_id FROM sessions', { type: QueryTypes.SELECT });
}

describe('sessions', () => {
  beforeEach(resetDb);

  it('sets an httpOnly, SameSite=Lax session cookie, and no session for a mere visitor', async () => {
    await (await newAgent()).get('/login');
    expect(await sessionRows()).to.have.length(0);
    await makeUser({ email: 'c@example.org' });
    const res = await signIn(await newAgent(), 'c@example.org');
    const cookie = (res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('yrd.sid='))!;
    expect(cookie).to.match(/HttpOnly/i).and.match(/SameSite=Lax/i);
    const rows = await sessionRows();
    expect(rows).to.have.length(1);
    expect(rows[0]!.data).not.to.match(/password|hash/i);
  });

  it('browsing does not rewrite the session row on every request', async () => {
    await makeUser({ email: 'w@example.org' });
    const agent = await signedInAgent('w@example.org');
    const before = (await sessionRows())[0]!;
    for (let i = 0; i < 5; i++) expect((await agent.get('/')).status).to.equal(200);
    const after = (await sessionRows())[0]!;
    expect(new Date(after.expires).getTime()).to.equal(new Date(before.expires).getTime());
    expect(after.data).to.equal(before.data);
  });

  it('an idle session expires: the next request is a visitor', async () => {
    await makeUser({ email: 'idle@example.org' });
    const agent = await signedInAgent('idle@example.org');
    const { sequelize } = await platform();
    await sqlOf(sequelize).run('UPDATE sessions SET expires = ?', [new Date(Date.now() - 1000)]);
    const res = await agent.get('/account');
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.match(/^\/login/);
  });

  it('pruning removes expired sessions only, whatever the server time zone', async () => {
    await makeUser({ email: 'live@example.org' });
    await makeUser({ email: 'gone@example.org' });
    const live = await signedInAgent('live@example.org');
    await signedInAgent('gone@example.org');
    const { sequelize } = await platform();
    const sql = sqlOf(sequelize);
    // One session with an hour to run (less than any zone's offset from UTC), one a second past its end.
    await sql.run("UPDATE sessions SET expires = ? WHERE data LIKE '%live@example.org%'", [new Date(Date.now() + 3600_000)]);
    await sql.run("UPDATE sessions SET expires = ? WHERE data LIKE '%gone@example.org%'", [new Date(Date.now() - 1000)]);
    await new DbSessionStore(sequelize, 3600_000).prune();
    const left = await sessionRows();
    expect(left).to.have.length(1);
    expect(left[0]!.data).to.contain('live@example.org');
    expect((await live.get('/account')).status).to.equal(200);
  });

  it('a session older than the absolute lifetime ends even while active', async () => {
    await makeUser({ email: 'abs@example.org' });
    const agent = await signedInAgent('abs@example.org');
    const { sequelize } = await platform();
    const row = (await sessionRows())[0]!;
    const data = JSON.parse(row.data);
    data.startedAt = Date.now() - 13 * 3600_000;
    await sequelize.query('UPDATE sessions SET data = ? WHERE sid = ?', { replacements: [JSON.stringify(data), row.sid] });
    const res = await agent.get('/account');
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal('/login');
    expect(await sessionRows()).to.have.length(0);
  });

  it('two app processes on one database share the sign-in', async () => {
    await makeUser({ email: 'two@example.org', name: '双进程' });
    const first = await newAgent();
    const res = await signIn(first, 'two@example.org');
    const cookies = (res.headers['set-cookie'] as unknown as string[]).map((c) => c.split(';')[0]).join('; ');
    const p = await platform();
    const { app: second } = createApp({ config: testConfig(), sequelize: p.sequelize, logger: p.logger, kickOutbox: () => {} });
    const page = await supertest(second).get('/').set('Cookie', cookies);
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('双进程');
  });

  it('a session-store failure is a 503, never anonymous access', async function () {
    if (process.env.DATABASE_URL) this.skip(); // needs a private SQLite file; the MariaDB run covers the shared store above
    const file = path.join(ROOT, 'var', 'test', `store-fail-${process.pid}.sqlite`);
    rmSync(file, { force: true });
    const p = await boot(testConfig({ DATABASE_URL: `sqlite:${path.relative(ROOT, file)}` }), { seed: true, startWorker: false });
    try {
      const agent = supertest.agent(p.app);
      const login = await agent.get('/login');
      const token = /name="_csrf" value="([^"]+)"/.exec(login.text)![1]!;
      const res = await agent.post('/login').type('form').send({ _csrf: token, email: 'admin@demo.yrd', password: 'yrd-demo-2026' });
      expect(res.status).to.equal(303);
      await p.sequelize.query('DROP TABLE sessions');
      const page = await agent.get('/admin');
      expect(page.status).to.equal(503);
      expect(page.text).not.to.contain('平台管理员');
    } finally {
      await p.shutdown(null);
      rmSync(file, { force: true });
    }
  });

  it('a profile change on one device shows on the user\'s other devices at once', async () => {
    await makeUser({ email: 'devices@example.org', name: '旧名字' });
    const phone = await signedInAgent('devices@example.org');
    const laptop = await signedInAgent('devices@example.org');
    const token = /name="_csrf" value="([^"]+)"/.exec((await laptop.get('/account')).text)![1]!;
    await laptop.post('/account/profile').type('form').send({ _csrf: token, name: '新名字', lang: 'zh-CN', institutionId: '' }).expect(303);
    const page = await phone.get('/');
    expect(page.text).to.contain('新名字').and.not.contain('旧名字');
  });

  it('no browser or proxy cache keeps a page (back after signing out shows nothing); static files stay cacheable', async () => {
    await makeUser({ email: 'cache@example.org' });
    const agent = await signedInAgent('cache@example.org');
    for (const page of ['/', '/account', '/login']) {
      const res = await agent.get(page);
      expect(res.headers['cache-control'], page).to.equal('no-store');
      expect(res.headers.etag, page).to.equal(undefined);
    }
    const css = await agent.get('/static/css/app.css');
    expect(css.status).to.equal(200);
    expect(css.headers['cache-control']).not.to.contain('no-store');
    expect(css.headers.etag).to.be.a('string');
  });

  it('shows script typed into a name as text, never as markup', async () => {
    await makeUser({ email: 'xss@example.org', name: '<script>alert(1)</script>' });
    const agent = await signedInAgent('xss@example.org');
    for (const page of ['/', '/account']) {
      const res = await agent.get(page);
      expect(res.text).not.to.contain('<script>alert(1)</script>');
      expect(res.text).to.contain('&lt;script&gt;alert(1)&lt;/script&gt;');
    }
  });
});
