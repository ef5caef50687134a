import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { Call, Programme } from '../../server/calls/models.js';
import { Province, User } from '../../server/people/models.js';
import { loadBundle, snapshotOf } from '../../server/proposals/bundle.js';
import { Attachment, BudgetLine, Proposal, ProposalPartner, ProposalSubmission } from '../../server/proposals/models.js';
import { readAttachmentKinds } from '../../server/calls/schema.js';
import { sniff, uploadArea } from '../../server/platform/storage.js';
import { DEFAULT_FILTERS, screeningRows } from '../../server/proposals/screening-query.js';
import { callScopes, screeningReport } from '../../server/proposals/screening-service.js';
import { seedDemoProposals } from '../../server/seed/demo-proposals.js';
import { seedDemo } from '../../server/seed/demo.js';
import { seedDemoReview } from '../../server/seed/demo-review.js';
import { Review } from '../../server/review/review-models.js';
import { describeReviewCall } from './demo-review.js';
import { withTransaction } from '../../server/platform/db.js';
import { platform, resetDb, testConfig } from '../support/platform.js';
import { download, signedInAgent } from '../support/agent.js';

describe('demo dataset: the call and its joint proposals', function () {
  this.timeout(120_000);
  let seedMs = 0;

  before(async () => {
    await resetDb();
    await Province.destroy({ where: {} }); // a fresh database: seedDemo runs only when no province exists
    const { sequelize } = await platform();
    const started = Date.now();
    expect(await seedDemo(sequelize, testConfig())).to.equal(true);
    seedMs = Date.now() - started;
  });

  after(resetDb);

  it('creates the programme and one published call asking for endorsement, with topics, criteria (100) and four pledges', async () => {
    const programme = await Programme.findOne({ where: { nameZh: '长三角科技创新共同体联合攻关计划' } });
    expect(programme).to.not.equal(null);
    const calls = await Call.findAll({ where: { programmeId: programme!.id, status: 'published' }, include: ['topics', 'criteria', 'pledges'] });
    expect(calls).to.have.length(1);
    const call = calls[0]! as Call & { topics: unknown[]; criteria: Array<{ weight: number }>; pledges: Array<{ provinceCode: string; amountFen: number }> };
    expect(call.status).to.equal('published');
    expect(!!call.endorsementRequired).to.equal(true);
    const days = (call.deadlineAt!.getTime() - Date.now()) / 86_400_000;
    expect(days).to.be.within(29, 31);
    expect(call.endorsementDeadlineAt!.getTime()).to.be.greaterThan(call.deadlineAt!.getTime());
    expect(call.topics.length).to.be.greaterThan(0);
    expect(call.criteria.reduce((a, c) => a + c.weight, 0)).to.equal(100);
    expect(call.pledges.map((p) => p.provinceCode).sort()).to.deep.equal(['AH', 'JS', 'SH', 'ZJ']);
    for (const p of call.pledges) expect(Number.isSafeInteger(p.amountFen) && p.amountFen > 0).to.equal(true);
  });

  it('creates at least 200 proposals, each with 2–4 institutions from at least two provinces', async () => {
    const { sequelize } = await platform();
    const rows = await sequelize.query<{ id: number; n: number | string; provinces: number | string }>(
      'SELECT p.id, COUNT(*) AS n, COUNT(DISTINCT pp.province_code) AS provinces FROM proposals p JOIN proposal_partners pp ON pp.proposal_id = p.id GROUP BY p.id',
      { type: QueryTypes.SELECT },
    );
    expect(rows.length).to.be.at.least(200);
    expect(await Proposal.count()).to.equal(rows.length);
    for (const r of rows) {
      expect(Number(r.n), `proposal ${r.id}`).to.be.within(2, 4);
      expect(Number(r.provinces), `proposal ${r.id}`).to.be.at.least(2);
    }
  });

  it('stores money as integer fen (budget lines, self-funding)', async () => {
    const lines = await BudgetLine.findAll({ attributes: ['amountFen', 'partnerId'], raw: true });
    expect(lines.length).to.be.greaterThan(1000);
    for (const l of lines) expect(Number.isSafeInteger(Number(l.amountFen)) && Number(l.amountFen) >= 0).to.equal(true);
    const partners = await ProposalPartner.findAll({ attributes: ['selfFundedFen'], raw: true });
    for (const p of partners) expect(Number.isSafeInteger(Number(p.selfFundedFen))).to.equal(true);
  });

  it('spreads statuses over the pipeline, with receipts and snapshots that match the stored proposal', async () => {
    const statuses = (await Proposal.findAll({ attributes: ['status'], raw: true })).map((p) => p.status);
    for (const s of ['draft', 'submitted', 'endorsed', 'eligible', 'ineligible'] as const) expect(statuses, s).to.include(s);
    const submitted = await Proposal.findAll({ where: { status: ['submitted', 'endorsed', 'eligible', 'ineligible'] }, attributes: ['id', 'receiptNo'], raw: true });
    expect(await ProposalSubmission.count()).to.equal(submitted.length);
    for (const p of submitted) expect(p.receiptNo).to.match(/^YRD-\d+-\d{8}-\d{6}-1$/);
    for (const p of submitted.filter((_, i) => i % 25 === 0)) {
      const sub = (await ProposalSubmission.findOne({ where: { proposalId: p.id } }))!;
      expect(sub.receiptNo).to.equal(p.receiptNo);
      expect(snapshotOf((await loadBundle(p.id))!).sha256, `snapshot of ${p.id}`).to.equal(sub.snapshotSha256);
    }
  });

  it("gives every submitted proposal a file for each attachment kind its call requires: a PDF in the upload area with the row's sha256, which an officer of its province can download", async () => {
    const uploadDir = testConfig().uploadDir;
    const calls = new Map((await Call.findAll()).map((c) => [c.id, readAttachmentKinds(c.attachmentKindsJson).filter((k) => k.required).map((k) => k.code).sort()]));
    const submitted = await Proposal.findAll({ where: { status: ['submitted', 'endorsed', 'eligible', 'ineligible'] }, attributes: ['id', 'callId', 'leadInstitutionId'], raw: true });
    const files = await Attachment.findAll({ raw: true });
    const kindsOf = new Map<number, string[]>();
    for (const f of files) kindsOf.set(f.proposalId, [...(kindsOf.get(f.proposalId) ?? []), f.kind]);
    for (const p of submitted) expect((kindsOf.get(p.id) ?? []).sort(), `attachments of ${p.id}`).to.deep.equal(calls.get(p.callId));
    expect(files.length).to.equal([...kindsOf.values()].reduce((n, k) => n + k.length, 0));
    const drafts = new Set((await Proposal.findAll({ where: { status: 'draft' }, attributes: ['id'], raw: true })).map((p) => p.id));
    expect(files.some((f) => drafts.has(f.proposalId))).to.equal(false);
    for (const f of files.filter((_, i) => i % 20 === 0)) {
      const file = path.join(uploadDir, f.storedName);
      expect(f.storedName).to.match(/^[a-f0-9]{48}$/);
      expect(createHash('sha256').update(readFileSync(file)).digest('hex'), f.storedName).to.equal(f.sha256);
      expect(readFileSync(file).length).to.equal(f.sizeBytes);
      expect((await sniff(file))?.ext, f.storedName).to.equal('pdf');
    }
    // officer.sh opens a file of an endorsed proposal led from Shanghai; an Anhui officer cannot when no partner is from Anhui.
    const { sequelize } = await platform();
    const [row] = await sequelize.query<{ id: number; proposal_id: number }>(
      `SELECT a.id, a.proposal_id FROM attachments a JOIN proposals p ON p.id = a.proposal_id JOIN institutions i ON i.id = p.lead_institution_id
       WHERE p.status = 'endorsed' AND i.province_code = 'SH' AND NOT EXISTS (SELECT 1 FROM proposal_partners pp WHERE pp.proposal_id = p.id AND pp.province_code = 'AH') ORDER BY a.id LIMIT 1`,
      { type: QueryTypes.SELECT },
    );
    expect(row, 'an endorsed Shanghai-led proposal with no Anhui partner').to.not.equal(undefined);
    const att = files.find((f) => f.id === Number(row!.id))!;
    const got = await download(await signedInAgent('officer.sh@demo.yrd', 'yrd-demo-2026'), `/proposals/${row!.proposal_id}/attachments/${row!.id}`);
    expect(got.status).to.equal(200);
    expect(createHash('sha256').update(got.body).digest('hex')).to.equal(att.sha256);
    expect((await download(await signedInAgent('officer.ah@demo.yrd', 'yrd-demo-2026'), `/proposals/${row!.proposal_id}/attachments/${row!.id}`)).status).to.equal(403);
    expect(existsSync(path.join(uploadDir, att.storedName))).to.equal(true);
  });

  it('gives the demo PI one draft and one submitted proposal, and the Fudan research office some to endorse', async () => {
    const pi = (await User.findOne({ where: { email: 'pi@demo.yrd' } }))!;
    const mine = (await Proposal.findAll({ where: { piUserId: pi.id }, attributes: ['status'], raw: true })).map((p) => p.status).sort();
    expect(mine).to.deep.equal(['draft', 'submitted']);
    const office = await signedInAgent('office@demo.yrd', 'yrd-demo-2026');
    const res = await office.get('/endorsements');
    expect(res.status).to.equal(200);
    expect((res.text.match(/data-proposal-id=/g) ?? []).length).to.be.at.least(3);
  });

  it('shows officer.sh a screening list with some proposals failing a rule, and the SQL filter agrees with checkEligibility', async () => {
    const officer = await signedInAgent('officer.sh@demo.yrd', 'yrd-demo-2026');
    const list = await officer.get('/screening');
    expect(list.status).to.equal(200);
    expect((list.text.match(/data-proposal-id=/g) ?? []).length).to.equal(50);
    const fails = await officer.get('/screening?eligibility=fail');
    expect((fails.text.match(/data-proposal-id=/g) ?? []).length).to.be.greaterThan(3);

    const { sequelize } = await platform();
    const calls = await callScopes(sequelize);
    const all = ['SH', 'JS', 'ZJ', 'AH'];
    const rows = await screeningRows(sequelize, all, calls, DEFAULT_FILTERS, { limit: 10_000, offset: 0 });
    const failing = new Set((await screeningRows(sequelize, all, calls, { ...DEFAULT_FILTERS, eligibility: 'fail' }, { limit: 10_000, offset: 0 })).map((r) => r.id));
    const passing = new Set((await screeningRows(sequelize, all, calls, { ...DEFAULT_FILTERS, eligibility: 'pass' }, { limit: 10_000, offset: 0 })).map((r) => r.id));
    expect(failing.size + passing.size).to.equal(rows.length);
    const failedRules = new Set<string>();
    for (const r of rows) {
      const report = (await screeningReport(r.id))!;
      const expected = report.results.filter((x) => !x.ok).map((x) => x.rule);
      expect(r.failed, `list summary of ${r.id}`).to.deep.equal(expected);
      expect(failing.has(r.id), `SQL filter of ${r.id}`).to.equal(expected.length > 0);
      expected.forEach((x) => failedRules.add(x));
    }
    expect([...failedRules]).to.include.members(['maxTotalRequest', 'duration', 'maxPerPartner', 'piLimit']);
  });

  it('lets the demo PI withdraw the submitted proposal and submit it again: it still meets every rule of the checklist', async () => {
    const pi = (await User.findOne({ where: { email: 'pi@demo.yrd' } }))!;
    const proposal = (await Proposal.findOne({ where: { piUserId: pi.id, status: 'submitted' } }))!;
    const agent = await signedInAgent('pi@demo.yrd', 'yrd-demo-2026');
    const form = async () => {
      const page = await agent.get(`/proposals/${proposal.id}/edit/submit`);
      expect(page.status).to.equal(200);
      return { csrf: /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!, key: /name="idempotencyKey" value="([^"]+)"/.exec(page.text)?.[1], text: page.text };
    };
    const first = await form();
    expect((await agent.post(`/proposals/${proposal.id}/withdraw`).type('form').send({ _csrf: first.csrf })).status).to.equal(303);
    expect((await Proposal.findByPk(proposal.id))!.status).to.equal('draft');
    const again = await form();
    expect(again.key, 'the submit form of the withdrawn proposal').to.be.a('string');
    const res = await agent.post(`/proposals/${proposal.id}/submit`).type('form').send({ _csrf: again.csrf, idempotencyKey: again.key! });
    expect(res.status).to.equal(303);
    const after = (await Proposal.findByPk(proposal.id))!;
    expect(after.status).to.equal('submitted');
    expect(after.receiptNo).to.match(/-2$/);
  });

  it('seeds quickly and only once', async () => {
    expect(seedMs, `seedDemo took ${seedMs} ms`).to.be.below(10_000);
    const { sequelize } = await platform();
    const before = await Proposal.count();
    expect(await seedDemo(sequelize, testConfig())).to.equal(false);
    const reviews = await Review.count();
    expect(await withTransaction(sequelize, (t) => seedDemoProposals(t, { passwordHash: 'x', uploads: uploadArea(testConfig().uploadDir) }))).to.equal(0);
    expect(await withTransaction(sequelize, (t) => seedDemoReview(sequelize, t, { passwordHash: 'x', uploads: uploadArea(testConfig().uploadDir) }))).to.equal(0);
    expect(await Proposal.count()).to.equal(before);
    expect(await Review.count()).to.equal(reviews);
    expect(await Call.count({ where: { status: 'in_review' } })).to.equal(1);
  });

  describeReviewCall();
});
