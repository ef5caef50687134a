import { expect } from 'chai';
import { platform, resetDb } from '../support/platform.js';
import { makeUser, PASSWORD } from '../support/factories.js';
import { csrfFrom, newAgent, signIn, signedInAgent } from '../support/agent.js';
import { AuditEvent } from '../../server/platform/audit.js';

const sidOf = (cookies: string[] | string | undefined) => {
  const list = Array.isArray(cookies) ? cookies : cookies ? [cookies] : [];
  return list.map((c) => /^yrd\.sid=([^;]+)/.exec(c)?.[1]).find(Boolean);
};

describe('sign-in', () => {
  beforeEach(resetDb);

  it('serves the login page in Chinese by default', async () => {
    const res = await (await newAgent()).get('/login');
    expect(res.status).to.equal(200);
    expect(res.text).to.contain('<html lang="zh-CN">').and.contain('登录');
  });

  it('signs in with the right password and lands on the role home page', async () => {
    await makeUser({ email: 'pi@example.org', name: '张三' });
    const agent = await newAgent();
    const res = await signIn(agent, 'pi@example.org');
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal('/');
    const home = await agent.get('/');
    expect(home.text).to.contain('张三').and.contain('data-role="applicant"');
  });

  it('answers a wrong password and an unknown account the same way', async () => {
    await makeUser({ email: 'known@example.org' });
    const a = await signIn(await newAgent(), 'known@example.org', 'wrong-password!');
    const b = await signIn(await newAgent(), 'nobody@example.org', 'wrong-password!');
    expect(a.status).to.equal(401);
    expect(b.status).to.equal(a.status);
    const strip = (s: string) => s.replace(/name="_csrf" value="[^"]+"/g, '').replace(/(known|nobody)@example\.org/g, 'EMAIL');
    expect(strip(a.text)).to.equal(strip(b.text));
    expect(a.text).to.contain('邮箱或密码不正确');
  });

  it('keeps the typed e-mail and shows the error next to the empty password field', async () => {
    const agent = await newAgent();
    const token = await csrfFrom(agent);
    const res = await agent.post('/login').type('form').send({ _csrf: token, email: 'typed@example.org', password: '' });
    expect(res.status).to.equal(400);
    expect(res.text).to.contain('value="typed@example.org"');
    expect(res.text).to.match(/id="f-password-error"[^>]*>请输入密码/);
  });

  it('locks the account after ten wrong passwords, with a clear message, even for the right password', async () => {
    await makeUser({ email: 'victim@example.org' });
    const agent = await newAgent();
    let last;
    for (let i = 0; i < 10; i++) last = await signIn(agent, 'victim@example.org', `wrong-${i}-password`);
    expect(last!.status).to.equal(429);
    expect(last!.text).to.contain('已暂时锁定');
    const right = await signIn(await newAgent(), 'victim@example.org', PASSWORD);
    expect(right.status).to.equal(429);
  });

  it('locks an unknown identifier exactly like a known one (no account enumeration)', async () => {
    const agent = await newAgent();
    let last;
    for (let i = 0; i < 10; i++) last = await signIn(agent, 'ghost@example.org', `wrong-${i}-password`);
    expect(last!.status).to.equal(429);
  });

  it('gives a new session id at sign-in and kills the old one at sign-out', async () => {
    const user = await makeUser({ email: 'sess@example.org' });
    const agent = await newAgent();
    const res = await signIn(agent, user.email);
    const sid = sidOf(res.headers['set-cookie'] as unknown as string[]);
    expect(sid).to.be.a('string');
    const token = await csrfFrom(agent, '/account');
    const out = await agent.post('/logout').type('form').send({ _csrf: token });
    expect(out.status).to.equal(303);
    // Replaying the old cookie after logout gets a visitor, not the user.
    const { app } = await platform();
    const supertest = (await import('supertest')).default;
    const replay = await supertest(app).get('/account').set('Cookie', `yrd.sid=${sid}`);
    expect(replay.status).to.equal(303);
    expect(replay.headers.location).to.match(/^\/login/);
  });

  it('refuses a POST without a CSRF token (403) and writes nothing', async () => {
    await makeUser({ email: 'csrf@example.org' });
    const agent = await newAgent();
    await agent.get('/login');
    const res = await agent.post('/login').type('form').send({ email: 'csrf@example.org', password: PASSWORD });
    expect(res.status).to.equal(403);
    expect(res.text).to.contain('表单已过期');
  });

  it('refuses a POST from a foreign Origin even with a valid token', async () => {
    const agent = await newAgent();
    const token = await csrfFrom(agent);
    const res = await agent.post('/login').set('Origin', 'https://evil.example').type('form').send({ _csrf: token, email: 'a@b.cn', password: 'x' });
    expect(res.status).to.equal(403);
  });

  it('shows a non-admin a 403 page with the reason on an admin page', async () => {
    await makeUser({ email: 'plain@example.org' });
    const agent = await signedInAgent('plain@example.org');
    const res = await agent.get('/admin');
    expect(res.status).to.equal(403);
    expect(res.text).to.contain('此页面仅限平台管理员访问');
  });

  it('sends a visitor to the login page, keeping where they were going', async () => {
    const res = await (await newAgent()).get('/admin');
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal('/login?next=%2Fadmin');
  });

  for (const evil of ['//evil.example/x', '/\\evil.example', 'javascript:alert(1)', 'https://evil.example/']) {
    it(`never redirects off-site after sign-in (next=${evil})`, async () => {
      await makeUser({ email: 'redir@example.org' });
      const agent = await newAgent();
      const token = await csrfFrom(agent);
      const res = await agent.post('/login').type('form').send({ _csrf: token, email: 'redir@example.org', password: PASSWORD, next: evil });
      expect(res.status).to.equal(303);
      expect(res.headers.location).to.equal('/');
    });
  }

  it('records sign-in failures nowhere in the audit trail but records profile changes', async () => {
    await makeUser({ email: 'aud@example.org' });
    const agent = await signedInAgent('aud@example.org');
    const token = await csrfFrom(agent, '/account');
    const res = await agent.post('/account/profile').type('form').send({ _csrf: token, name: '新名字', lang: 'en', institutionId: '' });
    expect(res.status).to.equal(303);
    const events = await AuditEvent.findAll({ where: { action: 'user.update_profile' } });
    expect(events).to.have.length(1);
    expect(JSON.parse(events[0]!.afterJson!)).to.include({ name: '新名字', lang: 'en' });
    const page = await agent.get('/account');
    expect(page.text).to.contain('<html lang="en">');
  });
});

describe('request limits on mail-sending forms', () => {
  beforeEach(resetDb);

  it('limits password-reset requests per address, the same for unknown addresses', async () => {
    await makeUser({ email: 'limit@example.org' });
    for (const email of ['limit@example.org', 'nobody-here@example.org']) {
      const agent = await newAgent();
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const token = await csrfFrom(agent, '/password/forgot');
        statuses.push((await agent.post('/password/forgot').type('form').send({ _csrf: token, email })).status);
      }
      expect(statuses, email).to.deep.equal([200, 200, 200, 200, 200, 429]);
    }
  });

  it('limits registrations per address and keeps what was typed', async () => {
    const agent = await newAgent();
    let last;
    for (let i = 0; i < 6; i++) {
      const token = await csrfFrom(agent, '/register');
      last = await agent.post('/register').type('form').send({ _csrf: token, name: '注册者', email: 'reg@example.org', password: 'long-enough-pass', confirmPassword: 'long-enough-pass' });
    }
    expect(last!.status).to.equal(429);
    expect(last!.text).to.contain('请求过于频繁').and.contain('value="注册者"');
  });
});
