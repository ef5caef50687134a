/**
 * The demo call in review (server/seed/demo-review.ts), checked inside demo.test.ts's describe so the demo is
 * seeded once: what an officer and the demo expert find when they sign in.
 */
import { expect } from 'chai';
import { Op } from 'sequelize';
import { Call, CallCriterion, CallPledge } from '../../server/calls/models.js';
import { IntegritySanction } from '../../server/integrity/models.js';
import { User } from '../../server/people/models.js';
import { Proposal, ProposalPartner } from '../../server/proposals/models.js';
import { blockingPairs } from '../../server/review/conflicts.js';
import { conflictsForProposals } from '../../server/review/experts-conflicts.js';
import { rankProposals, type SubmittedScore } from '../../server/review/results-rules.js';
import { recommendationFromDb } from '../../server/review/review-service.js';
import { Review, ReviewAssignment } from '../../server/review/review-models.js';
import { parseScores, weightedScore } from '../../server/review/scoring.js';
import { platform } from '../support/platform.js';
import { signedInAgent } from '../support/agent.js';

const DAY = 86_400_000;

async function reviewCall() {
  const call = (await Call.findOne({ where: { status: 'in_review' } }))!;
  const criteria = (await CallCriterion.findAll({ where: { callId: call.id }, order: [['sortOrder', 'ASC']], raw: true })).map((c) => ({ id: c.id, weight: c.weight, scaleMax: c.scaleMax }));
  const proposals = await Proposal.findAll({ where: { callId: call.id }, attributes: ['id', 'status', 'title'], raw: true });
  const assignments = await ReviewAssignment.findAll({ where: { callId: call.id }, include: ['review'] });
  return { call, criteria, proposals, assignments };
}

export function describeReviewCall(): void {
  it('holds a second call of the programme, past its deadline and in review: k = 3, criteria on two scales, due in weeks, four pledges', async () => {
    const calls = await Call.findAll({ where: { status: 'in_review' } });
    expect(calls).to.have.length(1);
    const { call, criteria, proposals } = await reviewCall();
    expect(call.programmeId).to.equal((await Call.findOne({ where: { status: 'published' } }))!.programmeId);
    expect(call.deadlineAt!.getTime()).to.be.below(Date.now());
    expect((call.reviewDueAt!.getTime() - Date.now()) / DAY).to.be.within(14, 35);
    expect(call.reviewersPerProposal).to.equal(3);
    expect(criteria.reduce((a, c) => a + c.weight, 0)).to.equal(100);
    expect(new Set(criteria.map((c) => c.scaleMax)).size).to.be.above(1);
    expect((await CallPledge.findAll({ where: { callId: call.id }, raw: true })).map((p) => p.provinceCode).sort()).to.deep.equal(['AH', 'JS', 'SH', 'ZJ']);
    expect(proposals.length).to.be.within(35, 45);
    expect(proposals.every((p) => p.status === 'eligible')).to.equal(true);
    const partners = await ProposalPartner.findAll({ where: { proposalId: { [Op.in]: proposals.map((p) => p.id) } }, raw: true });
    for (const p of proposals) expect(new Set(partners.filter((x) => x.proposalId === p.id).map((x) => x.provinceCode)).size, `provinces of ${p.id}`).to.be.at.least(2);
  });

  it('gives every eligible proposal k reviewers (invited or accepted), none conflicted or sanctioned; one invitation declined, a few pending', async () => {
    const { sequelize } = await platform();
    const { call, proposals, assignments } = await reviewCall();
    const live = assignments.filter((a) => a.status === 'invited' || a.status === 'accepted');
    for (const p of proposals) expect(live.filter((a) => a.proposalId === p.id).length, `reviewers of ${p.id}`).to.equal(call.reviewersPerProposal);
    const experts = [...new Set(assignments.map((a) => a.expertUserId))];
    const blocking = new Set(blockingPairs(await conflictsForProposals(sequelize, proposals.map((p) => p.id), experts)).map((c) => `${c.proposalId}:${c.expertId}`));
    for (const a of assignments) expect(blocking.has(`${a.proposalId}:${a.expertUserId}`), `assignment ${a.id} is conflicted`).to.equal(false);
    const sanctioned = new Set((await IntegritySanction.findAll({ attributes: ['subjectUserId'], raw: true })).map((s) => s.subjectUserId));
    expect(sanctioned.size).to.be.above(0);
    expect(assignments.some((a) => sanctioned.has(a.expertUserId))).to.equal(false);
    const count = (s: string) => assignments.filter((a) => a.status === s).length;
    expect(count('declined')).to.equal(1);
    expect(count('invited')).to.be.within(2, 12);
    expect(count('accepted')).to.be.above(assignments.length * 0.8);
  });

  it('holds submitted reviews scored on the scales, with Chinese comments and a recommendation, some drafts, and a ranking that z-scores reorder and flags disagreement', async () => {
    const { call, criteria, proposals, assignments } = await reviewCall();
    const withReview = assignments.map((a) => ({ a, r: (a as unknown as { review: Review | null }).review })).filter((x) => x.r);
    const submitted = withReview.filter((x) => x.r!.status === 'submitted');
    expect(submitted.length).to.be.above(assignments.length * 0.6);
    expect(withReview.filter((x) => x.r!.status === 'draft').length).to.be.above(0);
    const scores: SubmittedScore[] = [];
    for (const { a, r } of submitted) {
      expect(a.status).to.equal('accepted');
      const s = parseScores(r!.scoresJson);
      for (const c of criteria) expect(s[String(c.id)], `review ${r!.id}`).to.be.within(1, c.scaleMax);
      expect(r!.commentsToApplicant).to.match(/[\u4e00-\u9fff]/);
      expect(r!.confidentialComments).to.match(/[\u4e00-\u9fff]/);
      expect(recommendationFromDb(r!.recommendation)).to.not.equal(null);
      scores.push({ reviewId: r!.id, reviewerId: a.expertUserId, proposalId: a.proposalId, score: weightedScore(s, criteria)!, recommendation: recommendationFromDb(r!.recommendation) });
    }
    const ids = proposals.map((p) => p.id);
    const byZ = rankProposals({ proposalIds: ids, reviews: scores, k: call.reviewersPerProposal, sort: 'z' });
    const byScore = rankProposals({ proposalIds: ids, reviews: scores, k: call.reviewersPerProposal, sort: 'score' });
    expect(byZ.filter((r) => r.disagreement).length).to.be.at.least(2);
    expect(byZ.filter((r) => !r.incomplete).length).to.be.at.least(10);
    expect(byZ.map((r) => r.proposalId).slice(0, 10)).to.not.deep.equal(byScore.map((r) => r.proposalId).slice(0, 10));
  });

  it('gives the demo expert invitations to answer and accepted proposals, one with a draft review; officer.sh sees the ranking', async () => {
    const { call } = await reviewCall();
    const expert = (await User.findOne({ where: { email: 'expert@demo.yrd' } }))!;
    const mine = await ReviewAssignment.findAll({ where: { expertUserId: expert.id }, include: ['review'] });
    expect(mine.filter((a) => a.status === 'invited').length).to.be.at.least(2);
    const accepted = mine.filter((a) => a.status === 'accepted');
    expect(accepted.length).to.be.at.least(2);
    expect(accepted.filter((a) => (a as unknown as { review: Review | null }).review?.status === 'draft')).to.have.length(1);
    const agent = await signedInAgent('expert@demo.yrd', 'yrd-demo-2026');
    const page = await agent.get('/reviews');
    expect(page.status).to.equal(200);
    const title = (await Proposal.findByPk(accepted[0]!.proposalId))!.title;
    expect(page.text).to.contain(title);
    const officer = await signedInAgent('officer.sh@demo.yrd', 'yrd-demo-2026');
    const results = await officer.get(`/calls/${call.id}/reviews`);
    expect(results.status).to.equal(200);
    expect((results.text.match(/data-proposal-id=/g) ?? []).length).to.be.above(20);
  });
}
