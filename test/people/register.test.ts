/**
 * Registration with e-mail confirmation, end to end over HTTP and a real SMTP server; an address that is
 * already registered gets the same answer on screen and a mail to its owner instead.
 */
import { expect } from 'chai';
import { User } from '../../server/people/models.js';
import { AuditEvent } from '../../server/platform/audit.js';
import { OutboxMessage } from '../../server/platform/mail/outbox.js';
import type { OutboxWorker } from '../../server/platform/mail/worker.js';
import { csrfFrom, newAgent, signIn, type Agent } from '../support/agent.js';
import { makeUser, PASSWORD } from '../support/factories.js';
import { linkPath, type SmtpSink, useSmtpSink } from '../support/smtp.js';

const CHOSEN = 'my-own-long-password';

async function register(agent: Agent, o: { email: string; name?: string; password?: string }) {
  const token = await csrfFrom(agent, '/register');
  const password = o.password ?? CHOSEN;
  return agent.post('/register').type('form').send({ _csrf: token, name: o.name ?? '赵六', email: o.email, institutionId: '', password, confirmPassword: password });
}

const strip = (html: string, email: string) => html.replace(/name="_csrf" value="[^"]+"/g, '').split(email).join('EMAIL');

describe('registration with e-mail confirmation', () => {
  const smtp = useSmtpSink();
  let sink: SmtpSink;
  let worker: OutboxWorker;
  beforeEach(() => ({ sink, worker } = smtp));

  it('register → verification mail → confirm → can sign in; the link works once', async () => {
    const visitor = await newAgent();
    const res = await register(visitor, { email: 'zhao@example.org', name: '赵六' });
    expect(res.status).to.equal(200);
    expect(res.text).to.contain('我们已向 zhao@example.org 发送了一封邮件');

    const user = (await User.findOne({ where: { email: 'zhao@example.org' } }))!;
    expect(user.emailVerifiedAt).to.equal(null);
    const before = await signIn(await newAgent(), 'zhao@example.org', CHOSEN);
    expect(before.status, 'no sign-in before the address is confirmed').to.equal(401);
    expect(before.text).to.contain('您的邮箱尚未验证');

    expect(await worker.runOnce()).to.equal(1);
    const [mail] = sink.to('zhao@example.org');
    expect(mail!.subject).to.equal('请验证您的邮箱 — 长三角联合攻关平台');
    expect(mail!.text).to.contain('赵六，您好');
    expect(mail!.html).to.contain('/verify/');
    const link = linkPath(mail!.text, '/verify/');
    expect(link).to.match(/^\/verify\/[A-Za-z0-9_-]{43}$/);

    const browser = await newAgent();
    const page = await browser.get(link);
    expect(page.status).to.equal(200);
    const m = /name="_csrf" value="([^"]+)"/.exec(page.text);
    const confirm = await browser.post(link).type('form').send({ _csrf: m![1] });
    expect(confirm.status).to.equal(303);
    expect(confirm.headers.location).to.equal('/login');
    expect((await User.findByPk(user.id))!.emailVerifiedAt).to.be.instanceOf(Date);

    const signedIn = await signIn(await newAgent(), 'zhao@example.org', CHOSEN);
    expect(signedIn.status).to.equal(303);

    expect((await browser.get(link)).status).to.equal(410);
    expect((await browser.post(link).type('form').send({ _csrf: await csrfFrom(browser, '/login') })).status).to.equal(410);

    const actions = (await AuditEvent.findAll({ where: { entityType: 'user', entityId: String(user.id) } })).map((e) => e.action);
    expect(actions).to.include.members(['user.register', 'user.verify_email']);
    expect(sink.received, 'one mail in all').to.have.length(1);
  });

  it('an existing address gets the same page, no new account, and a mail to the owner in the owner\'s language', async () => {
    const owner = await makeUser({ email: 'taken@example.org', name: 'Owner Name', lang: 'en' });
    const fresh = await register(await newAgent(), { email: 'fresh@example.org' });
    const taken = await register(await newAgent(), { email: 'Taken@Example.org', password: 'attacker-password-1' });
    expect(taken.status).to.equal(fresh.status);
    expect(strip(taken.text, 'Taken@Example.org')).to.equal(strip(fresh.text, 'fresh@example.org'));

    expect(await User.count({ where: { email: 'taken@example.org' } })).to.equal(1);
    const kept = (await User.findByPk(owner.id))!;
    expect(kept.name).to.equal('Owner Name');
    expect(kept.passwordHash).to.equal(owner.passwordHash);
    expect((await signIn(await newAgent(), 'taken@example.org', 'attacker-password-1')).status).to.equal(401);
    expect((await signIn(await newAgent(), 'taken@example.org', PASSWORD)).status).to.equal(303);

    const rows = await OutboxMessage.findAll({ order: [['id', 'ASC']] });
    expect(rows.map((r) => [r.template, r.toAddress])).to.deep.equal([
      ['verify-email', 'fresh@example.org'],
      ['already-registered', 'taken@example.org'],
    ]);
    expect(await worker.runOnce()).to.equal(2);
    const [notice] = sink.to('taken@example.org');
    expect(notice!.subject).to.equal('Registration attempt — YRD Joint Research Platform');
    expect(notice!.text).to.contain('Dear Owner Name,');
    expect(linkPath(notice!.text, '/password/forgot')).to.equal('/password/forgot');
    expect(notice!.text, 'no account-creating link for the attacker').to.not.contain('/verify/');
    expect(await AuditEvent.count({ where: { action: 'user.register' } })).to.equal(1);
  });

  it('a visitor who chose English gets the English verification mail', async () => {
    const visitor = await newAgent();
    const token = await csrfFrom(visitor, '/register');
    await visitor.post('/lang').type('form').send({ _csrf: token, lang: 'en', next: '/register' });
    await register(visitor, { email: 'eng@example.org', name: 'Sam Green' });
    expect(await worker.runOnce()).to.equal(1);
    const [mail] = sink.to('eng@example.org');
    expect(mail!.subject).to.equal('Confirm your e-mail — YRD Joint Research Platform');
    expect(mail!.text).to.contain('Dear Sam Green,');
  });

  it('a form error queues no mail and creates no account', async () => {
    const res = await register(await newAgent(), { email: 'not-an-address' });
    expect(res.status).to.equal(400);
    expect(await OutboxMessage.count()).to.equal(0);
    expect(await User.count()).to.equal(0);
  });

  it('an address longer than an account can hold (191) is refused next to the field, on both databases; 191 works', async () => {
    // A local part of 64 (the most mail allows) and a domain of two long labels, to the length wanted.
    const at = (n: number) => `${'l'.repeat(64)}@${'d'.repeat(60)}.${'e'.repeat(n - 130)}.org`;
    const long = await register(await newAgent(), { email: at(192) });
    expect(long.status).to.equal(400);
    expect(long.text).to.contain('电子邮箱地址不能超过 191 个字符。').and.contain(at(192));
    expect(await User.count()).to.equal(0);
    const fits = await register(await newAgent(), { email: at(191) });
    expect(fits.status).to.equal(200);
    expect(await User.count({ where: { email: at(191) } })).to.equal(1);
    // Short enough, but a local part mail does not allow (over 64): the same message as any bad address, not a 500.
    const local = await register(await newAgent(), { email: `${'l'.repeat(65)}@example.org` });
    expect(local.status).to.equal(400);
    expect(local.text).to.contain('请输入有效的电子邮箱地址。');
  });
});
