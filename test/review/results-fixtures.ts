/**
 * Fixtures of the review results tests: a call in review (k = 2, pledges from SH and JS only, criteria 40/30/30 on
 * 1–10) with four eligible proposals, three experts — E1 harsh, E2 lenient, E3 in between — and their reviews:
 *
 *             P1            P2            P3            P4
 *   E1      6 → 60       4 → 40            ·          invited
 *   E2     10 → 100      9 → 90        8 → 80             ·
 *   E3   draft (all 1)   9 → 90        7 → 70             ·
 *
 * Per reviewer z: E1 P1 +1, P2 −1; E2 P1 +1.22, P2 0, P3 −1.22; E3 P2 +1, P3 −1. So by mean z P1 (+1.11),
 * P2 (0), P3 (−1.11), P4 (no review); by mean score P1 80, P3 75, P2 73.3, P4. P1 and P2 disagree (spread 40, 50),
 * P3 does not (10). E3's draft on P1 must change nothing.
 */
import { CallCriterion, CallTopic } from '../../server/calls/models.js';
import { Proposal, ProposalPartner } from '../../server/proposals/models.js';
import { Review } from '../../server/review/review-models.js';
import { makeCall } from '../support/call-factories.js';
import { makeInstitution, makeUser } from '../support/factories.js';
import { assign, makeExpert } from './review-fixtures.js';

export async function addProposal(callId: number, topicId: number | null, title: string, receiptNo: string) {
  const leadInst = await makeInstitution({ provinceCode: 'SH' });
  const partnerInst = await makeInstitution({ provinceCode: 'JS' });
  const pi = await makeUser({ institutionId: leadInst.id });
  const contact = await makeUser({ institutionId: partnerInst.id });
  const proposal = await Proposal.create({ callId, topicId, piUserId: pi.id, leadInstitutionId: leadInst.id, title, titleEn: null, abstract: '摘要', keywords: '关键词', disciplineCode: 'F0401', durationMonths: 24 });
  await proposal.update({ status: 'eligible', submittedAt: new Date(), receiptNo });
  await ProposalPartner.create({ proposalId: proposal.id, institutionId: leadInst.id, provinceCode: 'SH', isLead: true, role: '牵头', contactUserId: pi.id, sortOrder: 0 });
  await ProposalPartner.create({ proposalId: proposal.id, institutionId: partnerInst.id, provinceCode: 'JS', isLead: false, role: '合作', contactUserId: contact.id, sortOrder: 1, confirmedAt: new Date(), confirmedBy: contact.id });
  return { proposal, pi, contact, leadInst, partnerInst };
}

const STORED = { fund: 'fund', fund_with_changes: 'fund_changes', reject: 'reject' } as const;

/** A review on the assignment with the same score on every criterion. */
export async function writeReview(assignmentId: number, criteria: number[], score: number, o: { status?: 'draft' | 'submitted'; recommendation?: keyof typeof STORED; toApplicant?: string; confidential?: string } = {}) {
  const status = o.status ?? 'submitted';
  return Review.create({
    assignmentId,
    scoresJson: JSON.stringify(Object.fromEntries(criteria.map((id) => [String(id), score]))),
    commentsToApplicant: o.toApplicant ?? null,
    confidentialComments: o.confidential ?? null,
    recommendation: STORED[o.recommendation ?? 'fund'],
    status,
    submittedAt: status === 'submitted' ? new Date() : null,
  });
}

export async function resultsWorld() {
  const call = await makeCall({ status: 'in_review', reviewersPerProposal: 2, pledges: [{ provinceCode: 'SH', amountFen: 100_000_000 }, { provinceCode: 'JS', amountFen: 100_000_000 }] });
  const criteria = (await CallCriterion.findAll({ where: { callId: call.id }, order: [['sortOrder', 'ASC']], raw: true })).map((c) => c.id);
  const topicId = (await CallTopic.findOne({ where: { callId: call.id }, raw: true }))?.id ?? null;
  const p1 = await addProposal(call.id, topicId, '量子精密测量联合攻关', 'YRD-R-1');
  const p2 = await addProposal(call.id, topicId, '=HYPERLINK("http://evil.example","长三角类脑芯片")', 'YRD-R-2');
  const p3 = await addProposal(call.id, topicId, '长江口生态修复技术', 'YRD-R-3');
  const p4 = await addProposal(call.id, topicId, '氢能储运示范', 'YRD-R-4');
  const e1 = await makeExpert('严格专家甲', 'harsh@example.org');
  const e2 = await makeExpert('宽松专家乙', 'lenient@example.org');
  const e3 = await makeExpert('中间专家丙', 'middle@example.org');
  const a = async (p: { proposal: Proposal }, e: { id: number }, status: 'accepted' | 'invited' = 'accepted') => assign(call.id, p.proposal.id, e.id, status);
  await writeReview((await a(p1, e1)).id, criteria, 6, { recommendation: 'fund_with_changes', toApplicant: '方案可行，建议细化指标。', confidential: '团队偏弱，机密意见。' });
  await writeReview((await a(p2, e1)).id, criteria, 4, { recommendation: 'reject' });
  await writeReview((await a(p1, e2)).id, criteria, 10, { recommendation: 'fund' });
  await writeReview((await a(p2, e2)).id, criteria, 9, { recommendation: 'fund' });
  await writeReview((await a(p3, e2)).id, criteria, 8, { recommendation: 'fund' });
  await writeReview((await a(p1, e3)).id, criteria, 1, { status: 'draft', recommendation: 'reject' });
  await writeReview((await a(p2, e3)).id, criteria, 9, { recommendation: 'fund' });
  await writeReview((await a(p3, e3)).id, criteria, 7, { recommendation: 'fund_with_changes' });
  await a(p4, e1, 'invited');
  const officer = await makeUser({ email: 'officer.sh.results@example.org', roles: [{ role: 'officer', provinceCode: 'SH' }] });
  return { call, criteria, p1, p2, p3, p4, e1, e2, e3, officer };
}
