import { expect } from 'chai';
import fc from 'fast-check';
import { Call, CallCriterion } from '../../server/calls/models.js';
import { CALL_STATUSES, CALL_TRANSITIONS, type CallStatus } from '../../server/calls/rules.js';
import { canMove } from '../../server/calls/policy.js';
import type { Actor } from '../../server/platform/policy.js';
import { AuditEvent } from '../../server/platform/audit.js';
import { OutboxMessage } from '../../server/platform/mail/outbox.js';
import { CallSubscription } from '../../server/calls/models.js';
import { resetDb } from '../support/platform.js';
import { makeUser } from '../support/factories.js';
import { csrfFrom, newAgent, signedInAgent } from '../support/agent.js';
import { DAY, makeCall, officer } from './helpers.js';

describe('call lifecycle', () => {
  beforeEach(resetDb);

  it('allows exactly the transitions of CALL_TRANSITIONS, for every pair of statuses, and refuses the rest with 403', async () => {
    const user = await officer('ZJ');
    const agent = await signedInAgent(user.email);
    const token = await csrfFrom(agent, '/calls');
    for (const from of CALL_STATUSES) {
      for (const to of CALL_STATUSES) {
        // A draft needs a future deadline to be publishable; a published call can only close after its deadline.
        const call = await makeCall({ status: from, deadlineAt: new Date(Date.now() + (from === 'draft' ? 10 : -1) * DAY) });
        const res = await agent.post(`/calls/${call.id}/transition`).type('form').send({ _csrf: token, to });
        const allowed = CALL_TRANSITIONS[from].includes(to);
        await call.reload();
        expect(res.status, `${from} → ${to}`).to.equal(allowed ? 303 : 403);
        expect(call.status, `${from} → ${to}`).to.equal(allowed ? to : from);
        if (!allowed) expect(res.text).to.contain('当前状态下不允许此操作');
      }
    }
  });

  it('the policy agrees with the table for any pair and any mix of roles (property)', () => {
    const status = fc.constantFrom(...CALL_STATUSES);
    const role = fc.constantFrom('applicant', 'expert', 'officer', 'institution_admin', 'admin');
    fc.assert(
      fc.property(status, status, fc.uniqueArray(role, { maxLength: 3 }), (from: CallStatus, to: CallStatus, roles) => {
        const actor: Actor = { id: 1, email: 'a@b.cn', name: 'x', lang: 'zh-CN', institutionId: null, roles: roles.map((r) => ({ role: r, provinceCode: r === 'officer' ? 'SH' : null })) };
        const manager = roles.includes('officer') || roles.includes('admin');
        return canMove(actor, from, to).ok === (manager && CALL_TRANSITIONS[from].includes(to));
      }),
    );
  });

  it('refuses the lifecycle to an applicant (403) and to a visitor (sign-in first)', async () => {
    const call = await makeCall();
    const pi = await makeUser();
    const agent = await signedInAgent(pi.email);
    const res = await agent.post(`/calls/${call.id}/transition`).type('form').send({ _csrf: await csrfFrom(agent, '/calls'), to: 'published' });
    expect(res.status).to.equal(403);
    const visitor = await newAgent();
    const token = await csrfFrom(visitor, '/calls');
    const r2 = await visitor.post(`/calls/${call.id}/transition`).type('form').send({ _csrf: token, to: 'published' });
    expect(r2.status).to.equal(401);
    expect((await call.reload()).status).to.equal('draft');
  });

  it('shows every publish problem and stays a draft while the call is incomplete', async () => {
    const call = await makeCall({ topics: 0, weights: [50, 30], pledges: {}, deadlineAt: new Date(Date.now() - DAY) });
    const agent = await signedInAgent((await officer('SH')).email);
    const res = await agent.post(`/calls/${call.id}/transition`).type('form').send({ _csrf: await csrfFrom(agent, '/calls'), to: 'published' });
    expect(res.status).to.equal(409);
    for (const p of ['deadlinePassed', 'noTopics', 'weightsNot100', 'noPledges']) expect(res.text).to.contain(`data-problem="${p}"`);
    expect(res.text).to.contain('评审指标权重合计须为 100%').and.contain('至少需要一个指南方向');
    expect((await call.reload()).status).to.equal('draft');
    expect(await OutboxMessage.count()).to.equal(0);
  });

  it('lists the problems on the draft editor before anyone tries, and none once fixed', async () => {
    const call = await makeCall({ weights: [70] });
    const agent = await signedInAgent((await officer('SH')).email);
    const before = await agent.get(`/calls/${call.id}/edit`);
    expect(before.text).to.contain('data-problem="weightsNot100"').and.contain('当前权重合计 70%');
    await CallCriterion.create({ callId: call.id, nameZh: '团队', nameEn: null, weight: 30 });
    const after = await agent.get(`/calls/${call.id}/edit`);
    expect(after.text).not.to.contain('data-problem=');
    expect(after.text).to.contain('检查通过');
  });

  it('publishing queues one mail per subscriber in their own language, in the same transaction, and audits it', async () => {
    const zh = await makeUser({ email: 'zh@example.org', lang: 'zh-CN' });
    const en = await makeUser({ email: 'en@example.org', lang: 'en' });
    const off = await makeUser({ email: 'disabled@example.org', disabled: true });
    const quiet = await makeUser({ email: 'quiet@example.org' });
    void quiet;
    for (const u of [zh, en, off]) await CallSubscription.create({ userId: u.id });
    const call = await makeCall({ titleZh: '量子信息联合攻关指南', titleEn: 'Quantum information call', deadlineAt: new Date('2099-12-01T09:00:00Z') });
    const user = await officer('SH');
    const agent = await signedInAgent(user.email);
    const res = await agent.post(`/calls/${call.id}/transition`).type('form').send({ _csrf: await csrfFrom(agent, '/calls'), to: 'published' });
    expect(res.status).to.equal(303);
    await call.reload();
    expect(call.status).to.equal('published');
    expect(call.publishedAt).to.be.instanceOf(Date);
    const mails = await OutboxMessage.findAll({ order: [['toAddress', 'ASC']] });
    expect(mails.map((m) => m.toAddress)).to.deep.equal(['en@example.org', 'zh@example.org']);
    const [mEn, mZh] = mails;
    expect(mEn!.template).to.equal('call-published');
    expect(mEn!.subject).to.contain('New call: Quantum information call');
    expect(mEn!.textBody).to.contain('Submission deadline (Beijing time): 01/12/2099, 17:00:00').and.contain(`/calls/${call.id}`);
    expect(mZh!.subject).to.contain('新指南发布：量子信息联合攻关指南');
    expect(mZh!.textBody).to.contain('2099/12/01 17:00:00');
    const ev = await AuditEvent.findOne({ where: { action: 'call.published', entityId: String(call.id) } });
    expect(ev).to.not.equal(null);
    expect(JSON.parse(ev!.beforeJson!)).to.deep.equal({ status: 'draft' });
    expect(JSON.parse(ev!.afterJson!)).to.include({ status: 'published', notices: 2 });
  });

  it('refuses to close a call while its submission window is still open', async () => {
    const call = await makeCall({ status: 'published', deadlineAt: new Date(Date.now() + DAY) });
    const agent = await signedInAgent((await officer('AH')).email);
    const res = await agent.post(`/calls/${call.id}/transition`).type('form').send({ _csrf: await csrfFrom(agent, '/calls'), to: 'closed' });
    expect(res.status).to.equal(409);
    expect(res.text).to.contain('data-problem="stillOpen"');
    expect((await call.reload()).status).to.equal('published');
  });

  it('an unknown target status is a 400 and changes nothing', async () => {
    const call = await makeCall();
    const agent = await signedInAgent((await officer('SH')).email);
    const res = await agent.post(`/calls/${call.id}/transition`).type('form').send({ _csrf: await csrfFrom(agent, '/calls'), to: 'funded' });
    expect(res.status).to.equal(400);
    expect((await Call.findByPk(call.id))!.status).to.equal('draft');
  });
});
