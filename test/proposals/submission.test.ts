import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { OutboxMessage } from '../../server/platform/mail/outbox.js';
import { Call } from '../../server/calls/models.js';
import { Attachment, BudgetLine, Proposal, ProposalPartner, ProposalSubmission } from '../../server/proposals/models.js';
import { SYSTEM } from '../../server/platform/audit.js';
import { loadBundle } from '../../server/proposals/bundle.js';
import { clock, saveBasic } from '../../server/proposals/service.js';
import { submitProposal } from '../../server/proposals/submission.js';
import { platform, resetDb } from '../support/platform.js';
import { signedInAgent, type Agent } from '../support/agent.js';
import { flashesOf, makeCompleteDraft, pdfBytes } from './helpers.js';

/** A second complete draft of the same PI in the same call, with the same consortium, budget and files. */
async function twinDraft(d: Awaited<ReturnType<typeof makeCompleteDraft>>): Promise<number> {
  const { id: _id, createdAt: _c, updatedAt: _u, ...p } = d.proposal.get({ plain: true });
  const twin = await Proposal.create({ ...p, title: `${p.title}（二）` });
  const partnerIds = new Map<number, number>();
  for (const x of await ProposalPartner.findAll({ where: { proposalId: d.proposal.id } })) {
    const { id, ...rest } = x.get({ plain: true });
    partnerIds.set(id, (await ProposalPartner.create({ ...rest, proposalId: twin.id })).id);
  }
  for (const l of await BudgetLine.findAll({ where: { proposalId: d.proposal.id } })) {
    const { id: _l, ...rest } = l.get({ plain: true });
    await BudgetLine.create({ ...rest, proposalId: twin.id, partnerId: partnerIds.get(rest.partnerId)! });
  }
  for (const a of await Attachment.findAll({ where: { proposalId: d.proposal.id } })) {
    const { id: _a, ...rest } = a.get({ plain: true });
    await Attachment.create({ ...rest, proposalId: twin.id, storedName: randomBytes(24).toString('hex') });
  }
  return twin.id;
}

/** The hidden idempotency key and the CSRF token of the submit step. */
async function submitForm(agent: Agent, id: number) {
  const page = await agent.get(`/proposals/${id}/edit/submit`);
  const key = /name="idempotencyKey" value="([^"]+)"/.exec(page.text)?.[1];
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
  if (!key || !csrf) throw new Error(`no submit form (status ${page.status})`);
  return { key, csrf };
}

const post = (agent: Agent, id: number, csrf: string, key: string) => agent.post(`/proposals/${id}/submit`).type('form').send({ _csrf: csrf, idempotencyKey: key });

describe('proposal submission', () => {
  beforeEach(resetDb);
  afterEach(() => (clock.now = () => new Date()));

  it('submits a complete draft once: immutable snapshot with attachment hashes, receipt number, receipt mail', async () => {
    const { proposal, pi } = await makeCompleteDraft();
    const agent = await signedInAgent(pi.email);
    const { key, csrf } = await submitForm(agent, proposal.id);
    const res = await post(agent, proposal.id, csrf, key);
    expect(res.status).to.equal(303);
    const p = (await Proposal.findByPk(proposal.id))!;
    expect(p.status).to.equal('submitted');
    expect(p.version).to.equal(1);
    expect(p.receiptNo).to.match(new RegExp(`^YRD-${p.callId}-\\d{8}-${String(p.id).padStart(6, '0')}-1$`));
    const sub = (await ProposalSubmission.findOne({ where: { proposalId: p.id } }))!;
    expect(sub.receiptNo).to.equal(p.receiptNo);
    const snap = JSON.parse(sub.snapshot);
    expect(snap.attachments.map((a: { sha256: string }) => a.sha256)).to.deep.equal(['a'.repeat(64), 'a'.repeat(64)]);
    expect(snap.proposal.title).to.equal(p.title);
    const mail = (await OutboxMessage.findOne({ where: { template: 'proposal-receipt' } }))!;
    expect(mail.toAddress).to.equal(pi.email);
    expect(mail.subject).to.contain(p.receiptNo!);
    expect(mail.textBody).to.contain(sub.snapshotSha256);
    expect(flashesOf(res)[0]).to.deep.include({ key: 'proposals:submit.done' });
    const landing = await agent.get(res.headers.location);
    expect(landing.text).to.contain('申报书已提交').and.contain(`data-receipt>${p.receiptNo}<`);
    // A second tab (another key) after success: "already submitted", with the existing receipt.
    const tab = await post(agent, p.id, csrf, randomBytes(24).toString('base64url'));
    expect(flashesOf(tab)[0]).to.deep.include({ key: 'proposals:submit.already' });
    expect((await agent.get(tab.headers.location)).text).to.contain('申报书已经提交过').and.contain(`data-receipt>${p.receiptNo}<`);
    expect(await ProposalSubmission.count()).to.equal(1);
    // The printable view shows the receipt; the editor is read-only now.
    expect((await agent.get(`/proposals/${p.id}`)).text).to.contain(p.receiptNo!);
    const edit = await agent.post(`/proposals/${p.id}/edit/basic`).type('form').send({ _csrf: csrf, title: 'changed' });
    expect(edit.status).to.equal(403);
    expect((await Proposal.findByPk(p.id))!.title).to.not.equal('changed');
  });

  it('submits the draft as it is at the write: an edit made after the checks were prepared is in the snapshot', async () => {
    const { proposal, pi } = await makeCompleteDraft();
    const { sequelize } = await platform();
    const deps = { sequelize, baseUrl: 'http://127.0.0.1:3000' };
    const actor = { id: pi.id, email: pi.email, name: pi.name, lang: 'zh-CN', institutionId: pi.institutionId, roles: [] };
    const early = (await loadBundle(proposal.id))!; // what the route's policy read
    const input = { title: '改过的题目', titleEn: null, topicId: proposal.topicId, abstract: proposal.abstract, keywords: proposal.keywords, disciplineCode: proposal.disciplineCode, durationMonths: 24 };
    expect(await saveBasic(deps, SYSTEM, proposal.id, input)).to.equal(null);
    const out = await submitProposal(deps, SYSTEM, actor, proposal.id, randomBytes(24).toString('base64url'), new Date(), early);
    expect(out.kind).to.equal('submitted');
    const sub = (await ProposalSubmission.findOne({ where: { proposalId: proposal.id } }))!;
    expect(JSON.parse(sub.snapshot).proposal.title).to.equal('改过的题目');
    expect((await Proposal.findByPk(proposal.id))!.title).to.equal('改过的题目');
  });

  it('20 concurrent submits with the same key make exactly one submission and one mail, all with the same receipt', async () => {
    const { proposal, pi } = await makeCompleteDraft();
    const agent = await signedInAgent(pi.email);
    const { key, csrf } = await submitForm(agent, proposal.id);
    const results = await Promise.all(Array.from({ length: 20 }, () => post(agent, proposal.id, csrf, key)));
    expect(results.map((r) => r.status)).to.deep.equal(Array(20).fill(303));
    expect(await ProposalSubmission.count()).to.equal(1);
    expect(await OutboxMessage.count({ where: { template: 'proposal-receipt' } })).to.equal(1);
    const receipt = (await Proposal.findByPk(proposal.id))!.receiptNo;
    const flashes = results.map((r) => flashesOf(r)[0]);
    expect(flashes.every((f) => f?.key === 'proposals:submit.done' && f.params?.receiptNo === receipt), JSON.stringify(flashes)).to.equal(true);
  });

  it('20 concurrent submits with different keys (tabs) make exactly one submission; the others get "already submitted" with its receipt', async () => {
    const { proposal, pi } = await makeCompleteDraft();
    const agent = await signedInAgent(pi.email);
    const { csrf } = await submitForm(agent, proposal.id);
    const results = await Promise.all(Array.from({ length: 20 }, () => post(agent, proposal.id, csrf, randomBytes(24).toString('base64url'))));
    expect(results.map((r) => r.status)).to.deep.equal(Array(20).fill(303));
    expect(await ProposalSubmission.count()).to.equal(1);
    expect(await OutboxMessage.count({ where: { template: 'proposal-receipt' } })).to.equal(1);
    const receipt = (await Proposal.findByPk(proposal.id))!.receiptNo;
    const keys = results.map((r) => flashesOf(r)[0]!.key).sort();
    expect(keys.filter((k) => k === 'proposals:submit.done')).to.have.length(1);
    expect(keys.filter((k) => k === 'proposals:submit.already')).to.have.length(19);
    expect(results.every((r) => flashesOf(r)[0]!.params?.receiptNo === receipt)).to.equal(true);
  });

  it('a PI\'s two complete drafts in one call (限项 1), submitted at the same moment: exactly one goes in, the other is told why', async () => {
    const first = await makeCompleteDraft();
    const second = await twinDraft(first);
    const agent = await signedInAgent(first.pi.email);
    const forms = [await submitForm(agent, first.proposal.id), await submitForm(agent, second)];
    const ids = [first.proposal.id, second];
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(ids.map((id, i) => post(agent, id, forms[i]!.csrf, forms[i]!.key)));
      expect(results.map((r) => r.status).sort(), `round ${round}`).to.deep.equal([303, 400]);
      expect(await Proposal.count({ where: { status: 'submitted' } })).to.equal(1);
      expect(await ProposalSubmission.count()).to.equal(round + 1);
      const refused = results.find((r) => r.status === 400)!;
      expect(refused.text).to.contain('同一指南下每位项目负责人限报 1 项（您已有 1 项有效申报）');
      // Withdraw the one that went in, for the next round (the forms get new keys).
      const winner = ids[results.findIndex((r) => r.status === 303)]!;
      expect((await agent.post(`/proposals/${winner}/withdraw`).type('form').send({ _csrf: forms[0]!.csrf })).status).to.equal(303);
      for (const [i, id] of ids.entries()) forms[i] = await submitForm(agent, id);
    }
  });

  it('accepts a submission one second before and exactly at the deadline, refuses it one second after (server clock)', async () => {
    const deadline = new Date(Math.floor(Date.now() / 1000) * 1000 + 3 * 86400_000);
    for (const [offset, accepted] of [[-1000, true], [0, true], [999, true], [1000, false]] as const) {
      await resetDb();
      const { proposal, pi } = await makeCompleteDraft({ call: { deadlineAt: deadline } });
      const agent = await signedInAgent(pi.email);
      const { key, csrf } = await submitForm(agent, proposal.id);
      clock.now = () => new Date(deadline.getTime() + offset);
      const res = await post(agent, proposal.id, csrf, key);
      clock.now = () => new Date();
      const p = (await Proposal.findByPk(proposal.id))!;
      expect(p.status, `offset ${offset}`).to.equal(accepted ? 'submitted' : 'draft');
      expect(res.status, `offset ${offset}`).to.equal(accepted ? 303 : 403);
      expect(await ProposalSubmission.count(), `offset ${offset}`).to.equal(accepted ? 1 : 0);
      if (!accepted) expect(res.text).to.contain('不接受申报');
    }
  });

  it('refuses to submit until every partner has confirmed, and says why', async () => {
    const { proposal, pi } = await makeCompleteDraft({ confirmed: false });
    const agent = await signedInAgent(pi.email);
    const page = await agent.get(`/proposals/${proposal.id}/edit/submit`);
    expect(page.text).to.contain('所有合作单位确认参与及预算（尚有 1 家未确认）').and.contain(`href="/proposals/${proposal.id}/edit/consortium"`);
    const { key, csrf } = await submitForm(agent, proposal.id);
    const res = await post(agent, proposal.id, csrf, key);
    expect(res.status).to.equal(400);
    expect(res.text).to.contain('尚有条件未满足');
    expect((await Proposal.findByPk(proposal.id))!.status).to.equal('draft');
    expect(await ProposalSubmission.count()).to.equal(0);
    expect(await OutboxMessage.count()).to.equal(0);
  });

  it('withdraws while the call is open and resubmits with a new receipt; the old form is stale', async () => {
    const { proposal, pi } = await makeCompleteDraft();
    const agent = await signedInAgent(pi.email);
    const first = await submitForm(agent, proposal.id);
    await post(agent, proposal.id, first.csrf, first.key);
    const receipt1 = (await Proposal.findByPk(proposal.id))!.receiptNo!;
    const w = await agent.post(`/proposals/${proposal.id}/withdraw`).type('form').send({ _csrf: first.csrf });
    expect(w.status).to.equal(303);
    const afterWithdraw = (await Proposal.findByPk(proposal.id))!;
    expect(afterWithdraw.status).to.equal('draft');
    expect(afterWithdraw.receiptNo).to.equal(null);
    const retryOld = await post(agent, proposal.id, first.csrf, first.key);
    expect(flashesOf(retryOld)[0]!.key).to.equal('proposals:submit.stale');
    expect((await Proposal.findByPk(proposal.id))!.status).to.equal('draft');
    const second = await submitForm(agent, proposal.id);
    await post(agent, proposal.id, second.csrf, second.key);
    const p = (await Proposal.findByPk(proposal.id))!;
    expect(p.status).to.equal('submitted');
    expect(p.receiptNo).to.not.equal(receipt1);
    expect(p.receiptNo).to.match(/-2$/);
    expect(await ProposalSubmission.count({ where: { proposalId: p.id } })).to.equal(2);
    expect(await OutboxMessage.count({ where: { template: 'proposal-receipt' } })).to.equal(2);
  });

  it('after the deadline nothing changes: edit, upload, submit and withdraw are refused', async () => {
    const { proposal, pi, call } = await makeCompleteDraft();
    const agent = await signedInAgent(pi.email);
    const { key, csrf } = await submitForm(agent, proposal.id);
    await Call.update({ deadlineAt: new Date(Date.now() + 60_000) }, { where: { id: call.id } });
    clock.now = () => new Date(Date.now() + 3600_000);
    const edit = await agent.post(`/proposals/${proposal.id}/edit/basic`).type('form').send({ _csrf: csrf, title: 'late' });
    expect(edit.status).to.equal(403);
    const upload = await agent.post(`/proposals/${proposal.id}/attachments`).set('X-CSRF-Token', csrf).field('kind', 'other').attach('file', pdfBytes(), 'late.pdf');
    expect(upload.status).to.equal(403);
    const submit = await post(agent, proposal.id, csrf, key);
    expect(submit.status).to.equal(403);
    expect((await Proposal.findByPk(proposal.id))!.status).to.equal('draft');
    // A proposal submitted in time cannot be withdrawn after the deadline either.
    clock.now = () => new Date();
    await post(agent, proposal.id, csrf, (await submitForm(agent, proposal.id)).key);
    expect((await Proposal.findByPk(proposal.id))!.status).to.equal('submitted');
    clock.now = () => new Date(Date.now() + 3600_000);
    const withdraw = await agent.post(`/proposals/${proposal.id}/withdraw`).type('form').send({ _csrf: csrf });
    expect(withdraw.status).to.equal(403);
    const p = (await Proposal.findByPk(proposal.id))!;
    expect(p.status).to.equal('submitted');
    expect(p.title).to.not.equal('late');
  });
});
