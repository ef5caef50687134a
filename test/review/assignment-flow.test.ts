/**
 * The officers' assignment workflow on the database: run, pin/forbid, re-run, invitations by mail, the expert's
 * accept/decline with a replacement proposed by the same optimisation, and who may see what.
 */
import { expect } from 'chai';
import { Op } from 'sequelize';
import { AuditEvent } from '../../server/platform/audit.js';
import { OutboxMessage } from '../../server/platform/mail/outbox.js';
import { User } from '../../server/people/models.js';
import { DeclaredConflict, ExpertProfile } from '../../server/review/models.js';
import { AssignmentConstraint, ReviewAssignment } from '../../server/review/review-models.js';
import { makeUser } from '../support/factories.js';
import { csrfFrom, signedInAgent, type Agent } from '../support/agent.js';
import { resetDb } from '../support/platform.js';
import { world } from './assignment-fixtures.js';

async function post(agent: Agent, path: string, body: Record<string, string | number> = {}, from = '/expert/profile') {
  const token = await csrfFrom(agent, from);
  return agent.post(path).type('form').send({ _csrf: token, ...body });
}

const live = (callId: number) => ReviewAssignment.findAll({ where: { callId, status: { [Op.in]: ['proposed', 'invited', 'accepted'] } }, raw: true });

describe('review: assignment workflow (officers, invitations, answers)', function () {
  this.timeout(30_000);
  beforeEach(resetDb);

  it('a run gives every proposal k reviewers, no conflicted pair, stored and audited; the page shows them with affinities', async () => {
    const w = await world();
    const officer = await signedInAgent(w.officer.email);
    const page = `/calls/${w.call.id}/assignment`;
    const res = await post(officer, `${page}/run`, {}, page);
    expect(res.status).to.equal(303);
    const rows = await live(w.call.id);
    for (const p of w.proposals) expect(rows.filter((r) => r.proposalId === p.id), `proposal ${p.id}`).to.have.length(3);
    expect(rows.some((r) => r.proposalId === w.proposals[0]!.id && r.expertUserId === w.experts[0]!.id), 'conflicted pair').to.equal(false);
    expect(rows.every((r) => r.status === 'proposed')).to.equal(true);
    const loads = new Map<number, number>();
    for (const r of rows) loads.set(r.expertUserId, (loads.get(r.expertUserId) ?? 0) + 1);
    expect(Math.max(...loads.values())).to.be.at.most(2);
    expect(await AuditEvent.count({ where: { action: 'assignment.run', entityId: String(w.call.id) } })).to.equal(1);
    const html = (await officer.get(page)).text;
    const one = rows[0]!;
    const name = w.experts.find((e) => e.id === one.expertUserId)!.name;
    expect(html).to.contain(name);
    expect(html).to.contain(`${(one.affinityMilli / 10).toFixed(1)}%`);
    expect(html).to.contain('YRD-A-0');
  });

  it('a proposal the pool cannot serve shows its shortfall reason with its numbers', async () => {
    const w = await world();
    // Only three experts stay available, one of them conflicted with proposal 0: it can get at most 2.
    const keep = [w.experts[0]!.id, w.experts[1]!.id, w.experts[2]!.id];
    await ExpertProfile.update({ available: false }, { where: { userId: { [Op.notIn]: keep } } });
    await ExpertProfile.update({ maxLoad: 10 }, { where: { userId: { [Op.in]: keep } } });
    const officer = await signedInAgent(w.officer.email);
    const page = `/calls/${w.call.id}/assignment`;
    await post(officer, `${page}/run`, {}, page);
    const html = (await officer.get(page)).text;
    // pool_too_small: 2 without a conflict, 3 needed, 1 ruled out (the conflicted expert).
    expect(html).to.contain('可用专家不足：不存在回避的专家只有 2 位，需要 3 位（1 位因回避或排除不可用）。');
    expect((await live(w.call.id)).filter((r) => r.proposalId === w.proposals[0]!.id)).to.have.length(2);
  });

  it('refuses to run on a call that is not in review, and says why', async () => {
    const w = await world();
    await w.call.update({ status: 'published' });
    const officer = await signedInAgent(w.officer.email);
    const page = `/calls/${w.call.id}/assignment`;
    const res = await post(officer, `${page}/run`, {}, page);
    expect(res.status).to.equal(303);
    expect(await ReviewAssignment.count()).to.equal(0);
    expect((await officer.get(page)).text).to.contain('只有处于评审中或已截止的指南才能分配评审专家');
  });

  it('pins and forbids are honoured on a re-run; invited rows survive it', async () => {
    const w = await world();
    const officer = await signedInAgent(w.officer.email);
    const page = `/calls/${w.call.id}/assignment`;
    await post(officer, `${page}/run`, {}, page);
    const p1 = w.proposals[1]!.id;
    const first = (await live(w.call.id)).filter((r) => r.proposalId === p1);
    const forbidden = first[0]!.expertUserId;
    // Pin an expert not currently on p1 (and not the conflicted one).
    const pinnedExpert = w.experts.find((e) => e.id !== w.experts[0]!.id && !first.some((r) => r.expertUserId === e.id))!.id;
    // A refused constraint: the page again, with the proposal still chosen, what was typed kept and each message
    // next to its field; nothing stored.
    const refused = await post(officer, `${page}/forbid`, { proposalId: p1, expertUserId: '张三', reason: '  ' }, page);
    expect(refused.status).to.equal(400);
    expect(refused.text).to.contain(`<option value="${p1}" selected>`);
    expect(refused.text).to.match(/id="f-expertUserId" name="expertUserId" type="text" value="张三"[^>]*aria-invalid="true"/);
    expect(refused.text).to.contain('<p class="field-error" id="f-expertUserId-error">请填写专家编号。</p>');
    expect(refused.text).to.contain('<p class="field-error" id="f-reason-error">请填写理由。</p>');
    // An expert number that is no expert: said next to that field, the reason kept.
    const noExpert = await post(officer, `${page}/pin`, { proposalId: p1, expertUserId: '999999', reason: '领域权威' }, page);
    expect(noExpert.status).to.equal(400);
    expect(noExpert.text).to.match(/<p class="field-error" id="f-expertUserId-error">[^<]+<\/p>/);
    expect(noExpert.text).to.match(/id="f-reason" name="reason" type="text" value="领域权威"/);
    expect(await AssignmentConstraint.count()).to.equal(0);
    expect((await post(officer, `${page}/forbid`, { proposalId: p1, expertUserId: forbidden, reason: '近期合作' }, page)).status).to.equal(303);
    expect((await post(officer, `${page}/pin`, { proposalId: p1, expertUserId: pinnedExpert, reason: '领域权威' }, page)).status).to.equal(303);
    // Invite everything, then mark one invitation of another proposal: it must survive the re-run.
    const p2 = w.proposals[2]!.id;
    const invited = (await live(w.call.id)).find((r) => r.proposalId === p2)!;
    await ReviewAssignment.update({ status: 'invited', invitedAt: new Date() }, { where: { id: invited.id } });
    await post(officer, `${page}/run`, {}, page);
    const after = await live(w.call.id);
    const onP1 = after.filter((r) => r.proposalId === p1).map((r) => r.expertUserId);
    expect(onP1).to.include(pinnedExpert);
    expect(onP1).to.not.include(forbidden);
    expect(onP1).to.have.length(3);
    const kept = await ReviewAssignment.findByPk(invited.id);
    expect(kept?.status).to.equal('invited');
    expect(after.filter((r) => r.proposalId === p2 && r.expertUserId === invited.expertUserId)).to.have.length(1);
    // Forbidding an invited pair withdraws the invitation; removing that forbid lets the pair be proposed again.
    await post(officer, `${page}/forbid`, { proposalId: p2, expertUserId: invited.expertUserId, reason: '利益关系' }, page);
    expect((await ReviewAssignment.findByPk(invited.id))?.status).to.equal('withdrawn');
    await post(officer, `${page}/run`, {}, page);
    expect((await live(w.call.id)).some((r) => r.proposalId === p2 && r.expertUserId === invited.expertUserId)).to.equal(false);
    for (const c of await AssignmentConstraint.findAll({ where: { kind: 'forbid' } })) await post(officer, `${page}/constraints/${c.id}/remove`, {}, page);
    expect(await AssignmentConstraint.count({ where: { kind: 'forbid' } })).to.equal(0);
    expect(await ReviewAssignment.count({ where: { status: 'withdrawn' } })).to.equal(0);
    expect(await AuditEvent.count({ where: { action: { [Op.in]: ['assignment.pin', 'assignment.forbid', 'assignment.remove_constraint'] } } })).to.equal(5);
  });

  it('invitations: proposed → invited, one mail per expert with titles only; accept; decline proposes a replacement', async () => {
    const w = await world();
    const officer = await signedInAgent(w.officer.email);
    const page = `/calls/${w.call.id}/assignment`;
    await post(officer, `${page}/run`, {}, page);
    await post(officer, `${page}/invite`, {}, page);
    const rows = await live(w.call.id);
    expect(rows.every((r) => r.status === 'invited')).to.equal(true);
    const expertIds = [...new Set(rows.map((r) => r.expertUserId))];
    const mails = await OutboxMessage.findAll({ where: { template: 'review-invitation' }, raw: true });
    expect(mails).to.have.length(expertIds.length);
    const someone = w.experts.find((e) => e.id === rows[0]!.expertUserId)!;
    const mail = mails.find((m) => m.toAddress === someone.email)!;
    for (const r of rows.filter((x) => x.expertUserId === someone.id)) expect(mail.textBody).to.contain(w.proposals.find((p) => p.id === r.proposalId)!.title);
    for (const other of w.experts) if (other.id !== someone.id) expect(mail.textBody, 'no other reviewer names').to.not.contain(other.name);

    // Another expert cannot answer someone else's invitation.
    const mine = rows.find((r) => r.expertUserId === someone.id)!;
    const intruderUser = w.experts.find((e) => e.id !== someone.id)!;
    const intruder = await signedInAgent(intruderUser.email);
    expect((await post(intruder, `/reviews/${mine.id}/accept`)).status).to.equal(403);
    expect((await post(intruder, `/reviews/${mine.id}/decline`, { reason: 'x' })).status).to.equal(403);
    expect((await ReviewAssignment.findByPk(mine.id))!.status).to.equal('invited');

    const expert = await signedInAgent(someone.email);
    const mine2 = rows.filter((r) => r.expertUserId === someone.id);
    const acc = await post(expert, `/reviews/${mine2[0]!.id}/accept`);
    expect(acc.status).to.equal(303);
    expect(acc.headers.location).to.equal('/reviews');
    expect((await ReviewAssignment.findByPk(mine2[0]!.id))!.status).to.equal('accepted');

    // Decline another invitation of someone (a different expert if needed), declaring a conflict.
    const target = rows.find((r) => r.id !== mine2[0]!.id)!;
    const decliner = w.experts.find((e) => e.id === target.expertUserId)!;
    const dAgent = decliner.id === someone.id ? expert : await signedInAgent(decliner.email);
    // The reason becomes the declared conflict's too: 500 characters at most, said as such, on both databases.
    // Refused next to the field, with what was typed (the reason and the ticked conflict) still in the form.
    const typed = `${'合'.repeat(500)}<b>`;
    const tooLong = await post(dAgent, `/reviews/${target.id}/decline`, { reason: typed, conflict: '1' });
    expect(tooLong.status).to.equal(400);
    expect(tooLong.text).to.contain(`<p class="field-error" id="f-reason-${target.id}-error">理由最多 500 字。</p>`);
    expect(tooLong.text).to.contain(`aria-invalid="true" aria-describedby="f-reason-${target.id}-error">${'合'.repeat(500)}&lt;b&gt;</textarea>`);
    expect(tooLong.text).to.not.contain('<b>');
    expect(tooLong.text).to.contain(`id="f-conflict-${target.id}" name="conflict" value="1" checked>`);
    expect((await ReviewAssignment.findByPk(target.id))!.status).to.equal('invited');
    expect(await DeclaredConflict.count({ where: { proposalId: target.proposalId, expertUserId: decliner.id } })).to.equal(0);
    const reason = `与申请人有合作${'合'.repeat(493)}`;
    const dec = await post(dAgent, `/reviews/${target.id}/decline`, { reason, conflict: '1' });
    expect(dec.status).to.equal(303);
    expect((await ReviewAssignment.findByPk(target.id))!.status).to.equal('declined');
    // The same form sent again from a stale tab, with no reason: no form to show again, the list says why.
    const stale = await post(dAgent, `/reviews/${target.id}/decline`, { reason: ' ' });
    expect(stale.status).to.equal(303);
    expect((await dAgent.get('/reviews')).text).to.contain('该邀请已答复或已撤回。');
    expect((await DeclaredConflict.findAll({ where: { proposalId: target.proposalId, expertUserId: decliner.id }, raw: true })).map((c) => c.reason)).to.deep.equal([reason]);
    const onProposal = (await live(w.call.id)).filter((r) => r.proposalId === target.proposalId);
    expect(onProposal.filter((r) => r.status === 'proposed'), 'replacement proposed').to.have.length(1);
    expect(onProposal.map((r) => r.expertUserId)).to.not.include(decliner.id);
    // A full re-run never proposes the decliner again for that proposal.
    await post(officer, `${page}/run`, {}, page);
    const again = (await live(w.call.id)).filter((r) => r.proposalId === target.proposalId);
    expect(again.map((r) => r.expertUserId)).to.not.include(decliner.id);
    expect(again).to.have.length(3);
  });

  it('applicants never see reviewer identities: 403 on the page, no expert name or id on their pages', async () => {
    const w = await world();
    const officer = await signedInAgent(w.officer.email);
    const page = `/calls/${w.call.id}/assignment`;
    await post(officer, `${page}/run`, {}, page);
    await post(officer, `${page}/invite`, {}, page);
    const pi = await User.findByPk(w.proposals[1]!.piUserId);
    const applicant = await signedInAgent(pi!.email);
    expect((await applicant.get(page)).status).to.equal(403);
    const assigned = (await live(w.call.id)).filter((r) => r.proposalId === w.proposals[1]!.id);
    for (const path of ['/proposals', `/proposals/${w.proposals[1]!.id}`]) {
      const res = await applicant.get(path);
      expect(res.status, path).to.equal(200);
      for (const r of assigned) {
        const e = w.experts.find((x) => x.id === r.expertUserId)!;
        expect(res.text, `${path} shows ${e.name}`).to.not.contain(e.name);
        expect(res.text).to.not.contain(e.email);
        expect(res.text).to.not.match(new RegExp(`(expert|reviewer)[^<]{0,40}\\b${e.id}\\b`, 'i'));
      }
    }
    // An officer of a province that did not pledge is refused too.
    const outsider = await makeUser({ email: 'officer.ah@example.org', roles: [{ role: 'officer', provinceCode: 'AH' }] });
    expect((await (await signedInAgent(outsider.email)).get(page)).status).to.equal(403);
  });
});
