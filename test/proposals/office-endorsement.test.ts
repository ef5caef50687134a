import { expect } from 'chai';
import { Call } from '../../server/calls/models.js';
import { AuditEvent } from '../../server/platform/audit.js';
import { OutboxMessage } from '../../server/platform/mail/outbox.js';
import { Proposal } from '../../server/proposals/models.js';
import { csrfFrom, postForm, signedInAgent } from '../support/agent.js';
import { makeCall } from '../support/call-factories.js';
import { makeInstitution, makeUser } from '../support/factories.js';
import { resetDb } from '../support/platform.js';
import { makeSubmittedProposal } from '../support/proposal-factories.js';

const ids = (html: string) => [...html.matchAll(/data-proposal-id="(\d+)"/g)].map((m) => Number(m[1]));
const HOUR = 3600_000;

async function world(o: { endorsementDeadlineAt?: Date | null } = {}) {
  const fudan = await makeInstitution({ provinceCode: 'SH', nameZh: '复旦测试大学' });
  const nju = await makeInstitution({ provinceCode: 'JS', nameZh: '南京测试大学' });
  const office = await makeUser({ email: 'office@example.org', institutionId: fudan.id, roles: [{ role: 'institution_admin', institutionId: fudan.id }] });
  const otherOffice = await makeUser({ email: 'office.nju@example.org', institutionId: nju.id, roles: [{ role: 'institution_admin', institutionId: nju.id }] });
  const pi = await makeUser({ email: 'pi@example.org', name: '申请人乙', institutionId: fudan.id, lang: 'zh-CN' });
  const officer = await makeUser({ email: 'officer.sh@example.org', roles: [{ role: 'officer', provinceCode: 'SH' }] });
  const call = await makeCall({ endorsementRequired: true, endorsementDeadlineAt: o.endorsementDeadlineAt === undefined ? new Date(Date.now() + 40 * 24 * HOUR) : o.endorsementDeadlineAt });
  const { proposal } = await makeSubmittedProposal({ call, pi, title: '待依托单位审核的项目', partners: [{ institution: fudan }, { institution: nju }] });
  return { fudan, nju, office, otherOffice, pi, officer, call, proposal };
}

describe('host-institution endorsement (依托单位审核)', () => {
  beforeEach(resetDb);

  it("lists the submitted proposals led by the admin's institution in calls that ask for endorsement", async () => {
    const w = await world();
    const noEndorsement = await makeCall({ endorsementRequired: false });
    await makeSubmittedProposal({ call: noEndorsement, pi: await makeUser(), partners: [{ institution: w.fudan }, { institution: w.nju }] });
    await makeSubmittedProposal({ call: w.call, pi: await makeUser(), title: '南京牵头', partners: [{ institution: w.nju }, { institution: w.fudan }] });
    await makeSubmittedProposal({ call: w.call, pi: await makeUser(), status: 'draft', partners: [{ institution: w.fudan }, { institution: w.nju }] });
    const agent = await signedInAgent(w.office.email);
    const res = await agent.get('/endorsements');
    expect(res.status).to.equal(200);
    expect(ids(res.text)).to.deep.equal([w.proposal.id]);
    expect(res.text).to.contain('待依托单位审核的项目').and.contain('申请人乙');
    const detail = await agent.get(`/endorsements/${w.proposal.id}`);
    expect(detail.status).to.equal(200);
    expect(detail.text).to.contain(`href="/proposals/${w.proposal.id}"`).and.contain('action="/endorsements/' + w.proposal.id + '/endorse"');
  });

  it('endorses before the deadline: the proposal reaches officers, the PI is told, the act is audited', async () => {
    const w = await world();
    const officer = await signedInAgent(w.officer.email);
    expect(ids((await officer.get('/screening')).text)).to.deep.equal([]);
    const agent = await signedInAgent(w.office.email);
    const res = await postForm(agent, `/endorsements/${w.proposal.id}/endorse`, {}, `/endorsements/${w.proposal.id}`);
    expect(res.status).to.equal(303);
    const p = (await Proposal.findByPk(w.proposal.id))!;
    expect(p.status).to.equal('endorsed');
    expect(p.endorsedBy).to.equal(w.office.id);
    expect(p.endorsedAt).to.be.instanceOf(Date);
    const mail = await OutboxMessage.findOne({ where: { template: 'proposal-endorsed' } });
    expect(mail!.toAddress).to.equal(w.pi.email);
    expect(mail!.textBody).to.contain('待依托单位审核的项目');
    expect(await AuditEvent.count({ where: { action: 'proposal.endorse', entityId: String(w.proposal.id), actorId: w.office.id } })).to.equal(1);
    expect(ids((await officer.get('/screening')).text)).to.deep.equal([w.proposal.id]);
    // A second click finds it already endorsed: nothing changes twice.
    const again = await postForm(agent, `/endorsements/${w.proposal.id}/endorse`, {}, '/endorsements');
    expect(again.status).to.equal(409);
    expect(await OutboxMessage.count({ where: { template: 'proposal-endorsed' } })).to.equal(1);
  });

  it('refuses to endorse or return after the endorsement deadline (server time, to the second)', async () => {
    const w = await world({ endorsementDeadlineAt: new Date(Date.now() + 60 * HOUR) });
    const agent = await signedInAgent(w.office.email);
    const token = await csrfFrom(agent, `/endorsements/${w.proposal.id}`);
    await Call.update({ endorsementDeadlineAt: new Date(Date.now() - 1000) }, { where: { id: w.call.id } });
    const late = await agent.post(`/endorsements/${w.proposal.id}/endorse`).type('form').send({ _csrf: token });
    expect(late.status).to.equal(409);
    expect(late.text).to.contain('依托单位审核截止时间已过');
    const lateReturn = await agent.post(`/endorsements/${w.proposal.id}/return`).type('form').send({ _csrf: token, reason: '请补充材料' });
    expect(lateReturn.status).to.equal(409);
    expect((await Proposal.findByPk(w.proposal.id))!.status).to.equal('submitted');
    expect(await AuditEvent.count({ where: { entityType: 'proposal' } })).to.equal(0);
    expect(await OutboxMessage.count()).to.equal(0);
  });

  it('returns the proposal to draft with a reason (required), mailed to the PI and audited', async () => {
    const w = await world();
    const agent = await signedInAgent(w.office.email);
    const from = `/endorsements/${w.proposal.id}`;
    const empty = await postForm(agent, `${from}/return`, { reason: '  ' }, from);
    expect(empty.status).to.equal(400);
    expect(empty.text).to.match(/id="f-reason-error"[^>]*>请填写退回原因/);
    expect((await Proposal.findByPk(w.proposal.id))!.status).to.equal('submitted');

    const res = await postForm(agent, `${from}/return`, { reason: '预算说明不充分，请补充设备费测算依据。' }, from);
    expect(res.status).to.equal(303);
    const p = (await Proposal.findByPk(w.proposal.id))!;
    expect(p.status).to.equal('draft');
    expect(p.returnReason).to.equal('预算说明不充分，请补充设备费测算依据。');
    expect(p.endorsedBy).to.equal(null);
    const mail = await OutboxMessage.findOne({ where: { template: 'proposal-returned' } });
    expect(mail!.toAddress).to.equal(w.pi.email);
    expect(mail!.textBody).to.contain('预算说明不充分，请补充设备费测算依据。');
    const event = await AuditEvent.findOne({ where: { action: 'proposal.return', entityId: String(w.proposal.id) } });
    expect(JSON.parse(event!.afterJson!)).to.include({ status: 'draft', returnReason: '预算说明不充分，请补充设备费测算依据。' });

    // The office no longer holds it: it is the PI's draft again.
    expect((await agent.get(from)).status).to.equal(403);
  });

  it('shows the return reason to the PI on the proposal page', async () => {
    const w = await world();
    const agent = await signedInAgent(w.office.email);
    const from = `/endorsements/${w.proposal.id}`;
    expect((await postForm(agent, `${from}/return`, { reason: '请补充合作单位盖章页。' }, from)).status).to.equal(303);
    const piAgent = await signedInAgent(w.pi.email);
    const page = await piAgent.get(`/proposals/${w.proposal.id}`);
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('请补充合作单位盖章页。');
  });

  it("refuses the admin of another institution and people without the role (403), on the page and on every action", async () => {
    const w = await world();
    const other = await signedInAgent(w.otherOffice.email);
    expect((await other.get(`/endorsements/${w.proposal.id}`)).status).to.equal(403);
    const token = await csrfFrom(other, '/endorsements');
    expect((await other.post(`/endorsements/${w.proposal.id}/endorse`).type('form').send({ _csrf: token })).status).to.equal(403);
    expect((await other.post(`/endorsements/${w.proposal.id}/return`).type('form').send({ _csrf: token, reason: '越权' })).status).to.equal(403);
    expect(ids((await other.get('/endorsements')).text)).to.deep.equal([]);
    const pi = await signedInAgent(w.pi.email);
    expect((await pi.get('/endorsements')).status).to.equal(403);
    expect((await pi.get(`/endorsements/${w.proposal.id}`)).status).to.equal(403);
    expect((await Proposal.findByPk(w.proposal.id))!.status).to.equal('submitted');
    expect((await (await signedInAgent(w.office.email)).get('/endorsements/999999')).status).to.equal(404);
  });
});
