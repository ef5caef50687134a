/**
 * Password reset by an e-mailed single-use token that expires, end to end over HTTP and a real SMTP server.
 * Acceptance: the SMTP peer is stopped while the reset mail is queued → delivered once it is back, exactly once.
 */
import { expect } from 'chai';
import { AccountToken, User } from '../../server/people/models.js';
import { AuditEvent } from '../../server/platform/audit.js';
import { OutboxMessage } from '../../server/platform/mail/outbox.js';
import type { OutboxWorker } from '../../server/platform/mail/worker.js';
import { verifyPassword } from '../../server/platform/passwords.js';
import { csrfFrom, newAgent, signIn, signedInAgent, type Agent } from '../support/agent.js';
import { makeUser, PASSWORD } from '../support/factories.js';
import { linkPath, type SmtpSink, useSmtpSink } from '../support/smtp.js';

const NEW_PASSWORD = 'a-brand-new-passphrase';

async function forgot(agent: Agent, email: string) {
  const token = await csrfFrom(agent, '/password/forgot');
  return agent.post('/password/forgot').type('form').send({ _csrf: token, email });
}

async function setPassword(agent: Agent, path: string, password: string) {
  const page = await agent.get(path);
  const m = /name="_csrf" value="([^"]+)"/.exec(page.text);
  const token = m ? m[1]! : await csrfFrom(agent, '/password/forgot');
  return agent.post(path).type('form').send({ _csrf: token, password, confirmPassword: password });
}

/** Deliver what is due and return the reset link of the one mail sent to `address`. */
async function resetLinkFor(worker: OutboxWorker, sink: SmtpSink, address: string): Promise<string> {
  await worker.runOnce();
  const mails = sink.to(address);
  expect(mails).to.have.length(1);
  return linkPath(mails[0]!.text, '/password/reset/');
}

const stripVolatile = (html: string, ...emails: string[]) => {
  let out = html.replace(/name="_csrf" value="[^"]+"/g, '').replace(/value="[^"]*"/g, '');
  for (const e of emails) out = out.split(e).join('EMAIL');
  return out;
};

describe('password reset', () => {
  const smtp = useSmtpSink({ backoffBaseMs: 30_000 });
  let sink: SmtpSink;
  let worker: OutboxWorker;
  beforeEach(() => ({ sink, worker } = smtp));

  it('acceptance: the SMTP peer is down when the reset mail is queued; it is delivered exactly once when back, and the link works once', async () => {
    const user = await makeUser({ email: 'wang@example.org', name: '王五' });
    const elsewhere = await signedInAgent('wang@example.org');
    expect((await elsewhere.get('/account')).status).to.equal(200);

    await sink.stop();
    const visitor = await newAgent();
    const res = await forgot(visitor, 'wang@example.org');
    expect(res.status).to.equal(200);
    expect(res.text).to.contain('您将很快收到重设密码的邮件');

    const [queued, ...others] = await OutboxMessage.findAll();
    expect(others).to.have.length(0);
    expect(queued!.template).to.equal('password-reset');
    expect(queued!.toAddress).to.equal('wang@example.org');

    // The peer is down: the attempt fails and is scheduled again; nothing is lost.
    const t0 = new Date();
    expect(await worker.runOnce(t0)).to.equal(0);
    const failed = (await OutboxMessage.findByPk(queued!.id))!;
    expect(failed.status).to.equal('pending');
    expect(failed.attempts).to.equal(1);
    expect(failed.nextAttemptAt.getTime()).to.be.greaterThan(t0.getTime());

    // The peer is back: the next due pass delivers it, and later passes send nothing more.
    await sink.start();
    const due = new Date(failed.nextAttemptAt.getTime() + 1000);
    expect(await worker.runOnce(due)).to.equal(1);
    for (let i = 1; i <= 3; i++) expect(await worker.runOnce(new Date(due.getTime() + i * 3600_000))).to.equal(0);
    const delivered = sink.withMessageId(queued!.messageId);
    expect(delivered).to.have.length(1);
    expect(sink.received).to.have.length(1);
    expect(delivered[0]!.subject).to.equal('重设密码 — 长三角联合攻关平台');
    expect((await OutboxMessage.findByPk(queued!.id))!.status).to.equal('sent');

    // The link from the received mail sets the password.
    const link = linkPath(delivered[0]!.text, '/password/reset/');
    const browser = await newAgent();
    const form = await browser.get(link);
    expect(form.status).to.equal(200);
    expect(form.text).to.contain(`action="${link}"`);
    const done = await setPassword(browser, link, NEW_PASSWORD);
    expect(done.status).to.equal(303);
    expect(done.headers.location).to.equal('/login');

    expect((await signIn(await newAgent(), 'wang@example.org', NEW_PASSWORD)).status).to.equal(303);
    expect((await signIn(await newAgent(), 'wang@example.org', PASSWORD)).status).to.equal(401);

    // Every other session of the user has ended.
    const gone = await elsewhere.get('/account');
    expect(gone.status).to.equal(303);
    expect(gone.headers.location).to.match(/^\/login/);

    // Single use: the same link is now refused, and cannot change the password again.
    const again = await browser.get(link);
    expect(again.status).to.equal(410);
    expect(again.text).to.contain('重设链接无效、已使用或已过期');
    const replay = await setPassword(browser, link, 'attacker-chosen-password');
    expect(replay.status).to.equal(410);
    const fresh = (await User.findByPk(user.id))!;
    expect(await verifyPassword(fresh.passwordHash, NEW_PASSWORD)).to.equal(true);

    const events = await AuditEvent.findAll({ where: { entityType: 'user', entityId: String(user.id) }, order: [['id', 'ASC']] });
    expect(events.map((e) => e.action)).to.include.members(['user.password_reset_requested', 'user.password_reset']);
    expect(events.map((e) => `${e.beforeJson}${e.afterJson}`).join('')).to.not.contain(NEW_PASSWORD);
  });

  it('an expired token is refused on the page and on submit, and the password stays', async () => {
    const user = await makeUser({ email: 'late@example.org' });
    await forgot(await newAgent(), 'late@example.org');
    const link = await resetLinkFor(worker, sink, 'late@example.org');
    await AccountToken.update({ expiresAt: new Date(Date.now() - 1000) }, { where: { userId: user.id, purpose: 'reset' } });

    const browser = await newAgent();
    const page = await browser.get(link);
    expect(page.status).to.equal(410);
    expect(page.text).to.contain('重设链接无效、已使用或已过期').and.not.contain('name="password"');
    const submit = await browser.post(link).type('form').send({ _csrf: await csrfFrom(browser, '/password/forgot'), password: NEW_PASSWORD, confirmPassword: NEW_PASSWORD });
    expect(submit.status).to.equal(410);
    expect((await signIn(await newAgent(), 'late@example.org', PASSWORD)).status).to.equal(303);
    expect(await AuditEvent.count({ where: { action: 'user.password_reset' } })).to.equal(0);
  });

  it('the link expires after an hour', async () => {
    const user = await makeUser({ email: 'ttl@example.org' });
    const before = Date.now();
    await forgot(await newAgent(), 'ttl@example.org');
    const token = (await AccountToken.findOne({ where: { userId: user.id, purpose: 'reset' } }))!;
    expect(token.expiresAt.getTime() - before).to.be.within(3600_000 - 5000, 3600_000 + 5000);
    expect(token.tokenHash, 'only a hash is stored').to.match(/^[0-9a-f]{64}$/);
  });

  it('a reset ends the other reset links of the user too', async () => {
    await makeUser({ email: 'twice@example.org' });
    await forgot(await newAgent(), 'twice@example.org');
    await forgot(await newAgent(), 'twice@example.org');
    await worker.runOnce();
    const links = sink.to('twice@example.org').map((m) => linkPath(m.text, '/password/reset/'));
    expect(links).to.have.length(2);
    expect(links[0]).to.not.equal(links[1]);
    expect((await setPassword(await newAgent(), links[1]!, NEW_PASSWORD)).status).to.equal(303);
    expect((await (await newAgent()).get(links[0]!)).status).to.equal(410);
  });

  it('forgot for an unknown address shows the identical page and queues nothing', async () => {
    await makeUser({ email: 'known@example.org' });
    const known = await forgot(await newAgent(), 'known@example.org');
    const unknown = await forgot(await newAgent(), 'nobody@example.org');
    expect(unknown.status).to.equal(known.status);
    expect(stripVolatile(unknown.text, 'nobody@example.org')).to.equal(stripVolatile(known.text, 'known@example.org'));

    const rows = await OutboxMessage.findAll();
    expect(rows.map((r) => r.toAddress)).to.deep.equal(['known@example.org']);
    await worker.runOnce();
    expect(sink.to('nobody@example.org')).to.have.length(0);
    expect(await AccountToken.count()).to.equal(1);
  });

  it('a disabled account gets no reset mail (same page)', async () => {
    await makeUser({ email: 'off@example.org', disabled: true });
    const res = await forgot(await newAgent(), 'off@example.org');
    expect(res.status).to.equal(200);
    expect(await OutboxMessage.count()).to.equal(0);
  });

  it('an English-speaking user gets the English mail', async () => {
    await makeUser({ email: 'en@example.org', name: 'Ann Lee', lang: 'en' });
    await forgot(await newAgent(), 'en@example.org');
    await worker.runOnce();
    const [mail] = sink.to('en@example.org');
    expect(mail!.subject).to.equal('Reset your password — YRD Joint Research Platform');
    expect(mail!.text).to.contain('Dear Ann Lee,');
  });
});
