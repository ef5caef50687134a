import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { Call, Programme } from '../../server/calls/models.js';
import { Province, User } from '../../server/people/models.js';
import { loadBundle, snapshotOf } from '../../server/proposals/bundle.js';
import { BudgetLine, Proposal, ProposalPartner, ProposalSubmission } from '../../server/proposals/models.js';
import { DEFAULT_FILTERS, screeningRows } from '../../server/proposals/screening-query.js';
import { callScopes, screeningReport } from '../../server/proposals/screening-service.js';
import { seedDemoProposals } from '../../server/seed/demo-proposals.js';
import { seedDemo } from '../../server/seed/demo.js';
import { seedDemoReview } from '../../server/seed/demo-review.js';
import { Review } from '../../server/review/review-models.js';
import { describeReviewCall } from './demo-review.js';
import { withTransaction } from '../../server/platform/db.js';
import { platform, resetDb } from '../support/platform.js';
import { signedInAgent } from '../support/agent.js';

describe('demo dataset: the call and its joint proposals', function () {
  this.timeout(120_000);
  let seedMs = 0;

  before(async () => {
    await resetDb();
    await Province.destroy({ where: {} }); // a fresh database: seedDemo runs only when no province exists
    const { sequelize } = await platform();
    const started = Date.now();
    expect(await seedDemo(sequelize)).to.equal(true);
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

  it('seeds quickly and only once', async () => {
    expect(seedMs, `seedDemo took ${seedMs} ms`).to.be.below(10_000);
    const { sequelize } = await platform();
    const before = await Proposal.count();
    expect(await seedDemo(sequelize)).to.equal(false);
    const reviews = await Review.count();
    expect(await withTransaction(sequelize, (t) => seedDemoProposals(t, { passwordHash: 'x' }))).to.equal(0);
    expect(await withTransaction(sequelize, (t) => seedDemoReview(sequelize, t, { passwordHash: 'x' }))).to.equal(0);
    expect(await Proposal.count()).to.equal(before);
    expect(await Review.count()).to.equal(reviews);
    expect(await Call.count({ where: { status: 'in_review' } })).to.equal(1);
  });

  describeReviewCall();
});
