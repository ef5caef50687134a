/**
 * The outbox: mail exists exactly when the change that caused it commits, is sent after commit to a real
 * SMTP server in the recipient's language, refuses header-injecting addresses, and admins can read it and
 * put an undeliverable message back in the queue.
 */
import { expect } from 'chai';
import supertest from 'supertest';
import { createApp } from '../../server/app.js';
import { AuditEvent, SYSTEM } from '../../server/platform/audit.js';
import { withTransaction } from '../../server/platform/db.js';
import { InvalidAddress, isValidAddress, OutboxMessage, queueMail, type MailRequest } from '../../server/platform/mail/outbox.js';
import { MAX_ATTEMPTS, type OutboxWorker } from '../../server/platform/mail/worker.js';
import { requestPasswordReset } from '../../server/people/account-service.js';
import { csrfFrom, signedInAgent, signIn } from '../support/agent.js';
import { makeUser } from '../support/factories.js';
import { platform, testConfig } from '../support/platform.js';
import { linkPath, type SmtpSink, useSmtpSink } from '../support/smtp.js';

const LINKS = { baseUrl: 'http://127.0.0.1:3000' };

const resetMail = (address: string, name: string | null = '收件人'): MailRequest => ({
  to: { address, name },
  template: 'password-reset',
  lang: 'zh-CN',
  data: { name: name ?? '', resetUrl: 'http://127.0.0.1:3000/password/reset/abc', minutes: 60 },
});

async function queueOne(req: MailRequest): Promise<OutboxMessage> {
  const { sequelize } = await platform();
  return withTransaction(sequelize, (t) => queueMail(t, req));
}

async function admin() {
  await makeUser({ email: 'admin@example.org', name: '管理员', roles: [{ role: 'admin' }] });
  return signedInAgent('admin@example.org');
}

describe('mail outbox', () => {
  const smtp = useSmtpSink();
  let sink: SmtpSink;
  let worker: OutboxWorker;
  beforeEach(() => ({ sink, worker } = smtp));

  describe('written with the change, sent after commit', () => {
    it('a message queued in a transaction that rolls back leaves no outbox row and is never sent', async () => {
      const { sequelize } = await platform();
      const user = await makeUser({ email: 'rollback@example.org' });
      let error: unknown;
      try {
        await withTransaction(sequelize, async (t) => {
          await queueMail(t, resetMail(user.email));
          expect(await OutboxMessage.count({ transaction: t }), 'visible inside the transaction').to.equal(1);
          throw new Error('the change failed');
        });
      } catch (e) {
        error = e;
      }
      expect((error as Error).message).to.equal('the change failed');
      expect(await OutboxMessage.count()).to.equal(0);
      expect(await worker.runOnce()).to.equal(0);
      expect(sink.received).to.have.length(0);
    });

    it('a committed reset mail reaches the SMTP server once, with its Message-ID, text and HTML, in the user\'s language', async () => {
      const { sequelize } = await platform();
      await makeUser({ email: 'zhang@example.org', name: '张三', lang: 'zh-CN' });
      await makeUser({ email: 'smith@example.org', name: 'Jane Smith', lang: 'en' });
      await requestPasswordReset(sequelize, SYSTEM, LINKS, 'zhang@example.org');
      await requestPasswordReset(sequelize, SYSTEM, LINKS, 'Smith@Example.org');

      const rows = await OutboxMessage.findAll({ order: [['id', 'ASC']] });
      expect(rows.map((r) => r.status)).to.deep.equal(['pending', 'pending']);
      expect(sink.received, 'nothing is sent inside the transaction').to.have.length(0);

      expect(await worker.runOnce()).to.equal(2);
      const [zh, en] = rows.map((r) => sink.withMessageId(r.messageId));
      expect(zh).to.have.length(1);
      expect(en).to.have.length(1);

      expect(rows[0]!.messageId).to.match(/^<[0-9a-f-]{36}@[a-z0-9.-]+>$/);
      expect(zh![0]!.envelopeTo).to.deep.equal(['zhang@example.org']);
      expect(zh![0]!.to).to.equal('张三 <zhang@example.org>');
      expect(zh![0]!.subject).to.equal('重设密码 — 长三角联合攻关平台');
      expect(zh![0]!.text).to.contain('张三，您好').and.contain('60 分钟内');
      expect(zh![0]!.html).to.contain('<html lang="zh-CN">').and.match(/<a href="http:\/\/127\.0\.0\.1:3000\/password\/reset\/[A-Za-z0-9_-]{43}">/);
      expect(linkPath(zh![0]!.text, '/password/reset/')).to.match(/^\/password\/reset\/[A-Za-z0-9_-]{43}$/);
      expect(zh![0]!.headers.from).to.contain('no-reply@yrd-platform.example');
      expect(zh![0]!.envelopeFrom).to.equal('no-reply@yrd-platform.example');

      expect(en![0]!.envelopeTo).to.deep.equal(['smith@example.org']);
      expect(en![0]!.subject).to.equal('Reset your password — YRD Joint Research Platform');
      expect(en![0]!.text).to.contain('Dear Jane Smith,').and.contain('within 60 minutes');
      expect(en![0]!.html).to.contain('<html lang="en">');

      const after = await OutboxMessage.findAll({ order: [['id', 'ASC']] });
      expect(after.map((r) => r.status)).to.deep.equal(['sent', 'sent']);
      expect(after.every((r) => r.sentAt instanceof Date && r.attempts === 1)).to.equal(true);
      expect(await worker.runOnce(new Date(Date.now() + 86_400_000))).to.equal(0);
      expect(sink.received).to.have.length(2);
    });

    it('kick() after commit sends what was queued, and a queue with nothing due sends nothing', async () => {
      const m = await queueOne(resetMail('kick@example.org'));
      expect(await worker.kick()).to.equal(1);
      expect(sink.withMessageId(m.messageId)).to.have.length(1);
      expect(await worker.kick()).to.equal(0);
    });
  });

  describe('addresses', () => {
    it('refuses CR/LF, control characters, oversized and malformed addresses', () => {
      const long = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.${'e'.repeat(57)}.org`;
      expect(long.length).to.be.greaterThan(254);
      for (const bad of ['victim@example.org\r\nBcc: evil@example.org', 'victim@example.org\nRCPT TO:<evil@example.org>', 'a\u0000b@example.org', long, `${'x'.repeat(65)}@example.org`, 'no-at-sign', 'two@@example.org', 'a@localhost', '', 'a b@example.org', '<a@example.org>'])
        expect(isValidAddress(bad), JSON.stringify(bad)).to.equal(false);
      for (const good of ['zhang.san@example.org', 'li+calls@sub.example.edu.cn', `${'x'.repeat(64)}@example.org`]) expect(isValidAddress(good), good).to.equal(true);
    });

    it('queueMail throws on a header-injecting address and the transaction writes nothing', async () => {
      const { sequelize } = await platform();
      let error: unknown;
      try {
        await withTransaction(sequelize, (t) => queueMail(t, resetMail('victim@example.org\r\nBcc: evil@example.org')));
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(InvalidAddress);
      expect(await OutboxMessage.count()).to.equal(0);
    });

    it('a display name with CR/LF cannot add headers or recipients', async () => {
      const m = await queueOne(resetMail('target@example.org', 'Eve\r\nBcc: evil@example.org\r\nX-Injected: 1'));
      expect(m.toName).to.not.match(/[\r\n]/);
      expect(await worker.runOnce()).to.equal(1);
      const [got] = sink.withMessageId(m.messageId);
      expect(got!.envelopeTo).to.deep.equal(['target@example.org']);
      expect(got!.headers).to.not.have.property('bcc');
      expect(got!.headers).to.not.have.property('x-injected');
      expect(sink.to('evil@example.org')).to.have.length(0);
    });
  });

  describe('admin page', () => {
    it('lists messages newest first with recipient, subject, status, attempts, and says mail stays here without SMTP', async () => {
      const first = await queueOne(resetMail('first@example.org', '第一'));
      const second = await queueOne(resetMail('second@example.org', '第二'));
      const agent = await admin();
      const res = await agent.get('/admin/outbox');
      expect(res.status).to.equal(200);
      expect(res.text).to.contain('id="smtp-not-configured"').and.contain('尚未配置邮件服务器');
      const ids = [...res.text.matchAll(/data-outbox-id="(\d+)"/g)].map((m) => Number(m[1]));
      expect(ids).to.deep.equal([second.id, first.id]);
      expect(res.text).to.contain('第二 &lt;second@example.org&gt;').and.contain('重设密码 — 长三角联合攻关平台').and.contain('待发送');
    });

    it('filters by status and pages 50 at a time; a repeated or unknown status is a 400', async () => {
      const base = { toName: null, template: 'password-reset', subject: 's', textBody: 't', htmlBody: 'h', nextAttemptAt: new Date() };
      await OutboxMessage.bulkCreate(Array.from({ length: 53 }, (_, i) => ({ ...base, messageId: `<bulk-${i}@test>`, toAddress: `bulk${i}@example.org`, status: i < 51 ? ('sent' as const) : ('dead' as const) })));
      const agent = await admin();
      const sent1 = await agent.get('/admin/outbox?status=sent');
      expect([...sent1.text.matchAll(/data-status="sent"/g)]).to.have.length(50);
      expect(sent1.text).to.not.contain('data-status="dead"');
      expect(sent1.text.replace(/&#x3D;/g, '=')).to.contain('href="/admin/outbox?status=sent&amp;page=2" rel="next"');
      const sent2 = await agent.get('/admin/outbox?status=sent&page=2');
      expect([...sent2.text.matchAll(/data-status="sent"/g)]).to.have.length(1);
      const dead = await agent.get('/admin/outbox?status=dead');
      expect([...dead.text.matchAll(/data-outbox-id=/g)]).to.have.length(2);
      expect(dead.text).to.contain('<option value="dead" selected>');
      expect((await agent.get('/admin/outbox?status=dead&status=sent')).status).to.equal(400);
      expect((await agent.get('/admin/outbox?status=bogus')).status).to.equal(400);
      expect((await agent.get('/admin/outbox?page=-1')).status).to.equal(400);
    });

    it('shows one message\'s headers and text body, escaped', async () => {
      const m = await queueOne(resetMail('xss@example.org', '<script>alert(1)</script>'));
      const agent = await admin();
      const res = await agent.get(`/admin/outbox/${m.id}`);
      expect(res.status).to.equal(200);
      expect(res.text).to.contain(m.messageId.replace('<', '&lt;').replace('>', '&gt;'));
      expect(res.text).to.contain('xss@example.org').and.contain('no-reply@yrd-platform.example');
      expect(res.text).to.match(/<pre class="mail-body" id="mail-text">&lt;script&gt;alert\(1\)&lt;\/script&gt;，您好：/);
      expect(res.text).to.not.contain('<script>alert(1)');
      expect(res.text).to.contain('http://127.0.0.1:3000/password/reset/abc');
      expect((await agent.get('/admin/outbox/999999')).status).to.equal(404);
      expect((await agent.get('/admin/outbox/abc')).status).to.equal(404);
    });

    it('MAX_ATTEMPTS failures make a message dead, shown as such; "deliver again" queues it (audited) and it arrives once', async () => {
      const m = await queueOne(resetMail('dead@example.org'));
      await sink.stop();
      let now = new Date();
      for (let i = 0; i < MAX_ATTEMPTS; i++) {
        await worker.runOnce(now);
        now = new Date((await OutboxMessage.findByPk(m.id))!.nextAttemptAt.getTime() + 1000);
      }
      const dead = (await OutboxMessage.findByPk(m.id))!;
      expect(dead.status).to.equal('dead');
      expect(dead.attempts).to.equal(MAX_ATTEMPTS);

      const agent = await admin();
      const list = await agent.get('/admin/outbox?status=dead');
      expect(list.text).to.contain(`data-outbox-id="${m.id}" data-status="dead"`).and.contain('投递失败').and.match(/ECONNREFUSED/);
      const page = await agent.get(`/admin/outbox/${m.id}`);
      expect(page.text).to.contain(`action="/admin/outbox/${m.id}/retry"`);

      const token = await csrfFrom(agent, `/admin/outbox/${m.id}`);
      const res = await agent.post(`/admin/outbox/${m.id}/retry`).type('form').send({ _csrf: token });
      expect(res.status).to.equal(303);
      expect(res.headers.location).to.equal(`/admin/outbox/${m.id}`);
      const back = (await OutboxMessage.findByPk(m.id))!;
      expect(back.status).to.equal('pending');
      expect(back.attempts).to.equal(0);
      const events = await AuditEvent.findAll({ where: { action: 'outbox.retry' } });
      expect(events).to.have.length(1);
      expect(events[0]!.entityType).to.equal('outbox_message');
      expect(events[0]!.entityId).to.equal(String(m.id));
      expect(JSON.parse(events[0]!.beforeJson!)).to.include({ status: 'dead', attempts: MAX_ATTEMPTS });
      expect((await agent.get(`/admin/outbox/${m.id}`)).text).to.contain('已放回待发送队列').and.not.contain(`/retry"`);

      await sink.start();
      expect(await worker.runOnce()).to.equal(1);
      expect(sink.withMessageId(m.messageId)).to.have.length(1);

      // Retrying a message that is not dead changes nothing and records nothing.
      const again = await agent.post(`/admin/outbox/${m.id}/retry`).type('form').send({ _csrf: await csrfFrom(agent, '/admin/outbox') });
      expect(again.status).to.equal(303);
      expect((await OutboxMessage.findByPk(m.id))!.status).to.equal('sent');
      expect(await AuditEvent.count({ where: { action: 'outbox.retry' } })).to.equal(1);
      expect(await worker.runOnce(new Date(Date.now() + 86_400_000))).to.equal(0);
      expect(sink.received).to.have.length(1);
    });

    it('is for admins only: others get 403, visitors are sent to sign in, retry needs a CSRF token', async () => {
      const m = await queueOne(resetMail('private@example.org'));
      await makeUser({ email: 'officer@example.org', roles: [{ role: 'officer', provinceCode: 'SH' }] });
      const officer = await signedInAgent('officer@example.org');
      for (const path of ['/admin/outbox', `/admin/outbox/${m.id}`]) {
        const res = await officer.get(path);
        expect(res.status, path).to.equal(403);
        expect(res.text).to.not.contain('private@example.org');
      }
      const post = await officer.post(`/admin/outbox/${m.id}/retry`).type('form').send({ _csrf: await csrfFrom(officer, '/account') });
      expect(post.status).to.equal(403);
      const visitor = await supertest((await platform()).app).get('/admin/outbox');
      expect(visitor.status).to.equal(303);
      expect(visitor.headers.location).to.equal('/login?next=%2Fadmin%2Foutbox');
      const agent = await admin();
      await agent.get('/admin/outbox');
      expect((await agent.post(`/admin/outbox/${m.id}/retry`).type('form').send({})).status).to.equal(403);
    });

    it('does not show the no-SMTP notice when SMTP_URL is configured', async () => {
      const p = await platform();
      const config = testConfig({ SMTP_URL: sink.url });
      const { app } = createApp({ config, sequelize: p.sequelize, logger: p.logger, kickOutbox: () => undefined });
      await makeUser({ email: 'admin2@example.org', roles: [{ role: 'admin' }] });
      const agent = supertest.agent(app);
      expect((await signIn(agent, 'admin2@example.org')).status).to.equal(303);
      const res = await agent.get('/admin/outbox');
      expect(res.status).to.equal(200);
      expect(res.text).to.not.contain('smtp-not-configured');
    });
  });
});
