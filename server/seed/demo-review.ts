/**
 * The demo call in review, seeded once inside the demo seed's transaction (after the proposals and the expert
 * pool): a second call of the programme, past its deadline and `in_review`, with weighted criteria on two scales,
 * k = 3, a review due date three weeks ahead and four pledges; ~40 eligible joint proposals made by the shared
 * generator (demo-proposal-rows.ts) from NSFC titles the first call does not use; reviewers assigned by the real
 * solver on the real instance (assignment-service.loadInstance: conflicts, sanctions and province caps respected)
 * over a panel of the pool, the demo expert pinned to a few proposals; invitations mostly accepted, a few
 * pending, one declined with its replacement proposed by the same optimisation; and reviews — most submitted,
 * some drafts — from reviewers who differ in harshness (so z-normalisation reorders the ranking), with two
 * proposals on which reviewers disagree strongly. Deterministic (seeded PRNG) and fast (bulk inserts).
 */
import { Op, type Sequelize, type Transaction } from 'sequelize';
import { readAttachmentKinds } from '../calls/schema.js';
import { Call, CallCriterion, Programme } from '../calls/models.js';
import { Institution, User, UserRole } from '../people/models.js';
import { audit, SYSTEM } from '../platform/audit.js';
import type { UploadArea } from '../platform/storage.js';
import { Attachment, Proposal, ProposalPartner } from '../proposals/models.js';
import { checkEligibility } from '../proposals/rules.js';
import { assignReviewers, proposeReplacement, type PairRef } from '../review/assignment.js';
import { callFacts, loadInstance } from '../review/assignment-service.js';
import { recommendationToDb, type Recommendation } from '../review/review-service.js';
import { Review, ReviewAssignment } from '../review/review-models.js';
import { weightedScore, type Scores } from '../review/scoring.js';
import { DEMO_PROGRAMME, GIVEN, prng, readNsfcProjects, SURNAMES } from './demo-data.js';
import { buildProposalRows, consortiumPicker, DAY, HOUR, insertProposalRows, partnerBudgets, seconds, type Draft, type Inst } from './demo-proposal-rows.js';
import { createDemoCall, DEMO_RULES } from './demo-proposals.js';
import { COMMENTS_TO_APPLICANT, CONFIDENTIAL_COMMENTS, DECLINE_REASON, REVIEW_CALL, REVIEW_CRITERIA, REVIEW_K, REVIEW_PLEDGES_WAN, type Band } from './demo-review-data.js';

export const DEMO_REVIEW_PROPOSALS = 40;
/** Experts per province on the call's review panel (the rest of the pool is not asked this round). */
const PANEL_PER_PROVINCE = 9;
const DEMO_EXPERT = 'expert@demo.yrd';

type Rand = () => number;

/** Seed the call in review; returns how many proposals it holds (0 when already there or nothing to build on). */
export async function seedDemoReview(sequelize: Sequelize, t: Transaction, o: { passwordHash: string; now?: Date; uploads: UploadArea }): Promise<number> {
  if ((await Call.count({ where: { titleZh: REVIEW_CALL.titleZh }, transaction: t })) > 0) return 0;
  const programme = await Programme.findOne({ where: { nameZh: DEMO_PROGRAMME.nameZh }, transaction: t });
  if (!programme) return 0;
  const rand = prng(20_261_126);
  const pickOf = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const nowMs = seconds((o.now ?? new Date()).getTime()).getTime();
  const deadlineMs = nowMs - 35 * DAY;

  const institutions = (await Institution.findAll({ attributes: ['id', 'nameZh', 'nameEn', 'provinceCode', 'type'], order: [['id', 'ASC']], raw: true, transaction: t })) as Inst[];
  const byName = new Map(institutions.map((i) => [i.nameZh, i]));
  const provinces = [...new Set(institutions.map((i) => i.provinceCode))].sort();
  const inProvince = new Map(provinces.map((p) => [p, institutions.filter((i) => i.provinceCode === p)]));
  const demoUsers = new Map((await User.findAll({ where: { email: { [Op.like]: '%@demo.yrd' } }, attributes: ['id', 'email'], raw: true, transaction: t })).map((u) => [u.email, u.id]));
  const officerOf = (p: string) => demoUsers.get(`officer.${p.toLowerCase()}@demo.yrd`) ?? null;
  const fudan = byName.get('复旦大学');
  if (!fudan || provinces.length < 2) return 0;

  // ---- the call ---------------------------------------------------------------------------------------
  const { call, topicIds } = await createDemoCall(t, {
    programmeId: programme.id,
    texts: REVIEW_CALL,
    status: 'in_review',
    opensMs: deadlineMs - 60 * DAY,
    deadlineMs,
    reviewDueMs: nowMs + 21 * DAY,
    decisionMs: nowMs + 45 * DAY,
    k: REVIEW_K,
    criteria: REVIEW_CRITERIA,
    pledgesWan: REVIEW_PLEDGES_WAN,
    provinces,
    officerOf,
  });

  // ---- eligible proposals, by the shared generator ----------------------------------------------------------
  const used = new Set((await Proposal.findAll({ attributes: ['title'], raw: true, transaction: t })).map((p) => p.title));
  const titles: Array<{ title: string; lead: Inst }> = [];
  for (const p of readNsfcProjects()) {
    const lead = byName.get(p.institution);
    if (lead && lead.type !== 'enterprise' && !used.has(p.title)) titles.push({ title: p.title, lead }), used.add(p.title);
  }
  shuffle(titles, rand);
  const consortium = consortiumPicker(provinces, inProvince, pickOf);
  let nextUser = Number((await User.max('id', { transaction: t })) ?? 0) + 1;
  let nextProposal = Number((await Proposal.max('id', { transaction: t })) ?? 0) + 1;
  const nextPartner = Number((await ProposalPartner.max('id', { transaction: t })) ?? 0) + 1;
  let piNumber = await User.count({ where: { email: { [Op.like]: 'pi____@demo.yrd' } }, transaction: t });
  const newUsers: Array<{ id: number; email: string; name: string; institutionId: number }> = [];
  const drafts: Draft[] = [];
  for (const { title, lead } of titles) {
    if (drafts.length >= DEMO_REVIEW_PROPOSALS) break;
    const piUserId = nextUser;
    // A consortium that passes every rule (the proposals were screened eligible): a few tries, else the next title.
    for (let attempt = 0; attempt < 6; attempt++) {
      const partners = partnerBudgets(consortium(lead, between(2, 4)), 'none', rand, between, (_, i) => (i === 0 ? piUserId : null));
      const durationMonths = pickOf([24, 36, 36]);
      const facts = { durationMonths, otherActiveOfPi: 0, partners: partners.map((p, i) => ({ institutionId: p.inst.id, provinceCode: p.inst.provinceCode, type: p.inst.type, isLead: i === 0, requestedFen: p.requestedFen, selfFundedFen: p.selfFundedFen, confirmed: true })) };
      if (checkEligibility(DEMO_RULES, facts).some((r) => !r.ok)) continue;
      nextUser++;
      piNumber++;
      newUsers.push({ id: piUserId, email: `pi${String(piNumber).padStart(4, '0')}@demo.yrd`, name: pickOf([...SURNAMES]) + pickOf([...GIVEN]) + (rand() < 0.6 ? pickOf([...GIVEN]) : ''), institutionId: lead.id });
      drafts.push({ id: nextProposal++, title, piUserId, topic: Math.floor(rand() * topicIds.length), lead, partners, durationMonths, status: 'eligible', flaw: 'none' });
      break;
    }
  }
  await User.bulkCreate(newUsers.map((u) => ({ ...u, passwordHash: o.passwordHash, lang: 'zh-CN', emailVerifiedAt: seconds(deadlineMs - 30 * DAY), disabledAt: null })), { transaction: t });
  await UserRole.bulkCreate(newUsers.map((u) => ({ userId: u.id, role: 'applicant' as const, provinceCode: null, institutionId: null, scopeKey: '', grantedBy: null })), { transaction: t });
  const rows = buildProposalRows(drafts, { callId: call.id, topicIds, nowMs: deadlineMs, rand, between, nextPartner, nextAttachment: Number((await Attachment.max('id', { transaction: t })) ?? 0) + 1, attachmentKinds: readAttachmentKinds(call.attachmentKindsJson), officerOf, office: demoUsers.get('office@demo.yrd') ?? null, endorserInstitutionId: fudan.id });
  await insertProposalRows(t, rows, o.uploads);

  // ---- assignment by the solver, on the instance the officers' page would load ------------------------------------
  const facts = (await callFacts(call.id, t))!;
  const inst = await loadInstance(sequelize, facts, t);
  const input = inst.input;
  const demoExpert = demoUsers.get(DEMO_EXPERT);
  const conflicted = new Set([...(input.conflicts ?? [])].map((c) => `${c.proposalId}:${c.expertId}`));
  const panel = new Set<number>(demoExpert ? [demoExpert] : []);
  for (const p of provinces) {
    const local = inst.experts.filter((e) => e.province === p && e.userId !== demoExpert).map((e) => e.userId);
    shuffle(local, rand);
    local.slice(0, PANEL_PER_PROVINCE).forEach((id) => panel.add(id));
  }
  const demoPins: PairRef[] = demoExpert ? drafts.filter((d) => !conflicted.has(`${d.id}:${demoExpert}`)).slice(0, 5).map((d) => ({ proposalId: d.id, expertId: demoExpert })) : [];
  const panelInput = { ...input, experts: input.experts.map((e) => (panel.has(Number(e.id)) ? e : { ...e, load: 0 })), pins: demoPins };
  const result = assignReviewers(panelInput);

  // Statuses: the demo expert's first two invitations wait for an answer and the rest are accepted; elsewhere a
  // few wait, one was declined (its replacement invited), the others accepted.
  const officer = officerOf('SH');
  const invitedAt = seconds(nowMs - 12 * DAY);
  const isDemo = (a: { expertId: unknown }) => demoExpert !== undefined && Number(a.expertId) === demoExpert;
  const others = result.assignments.filter((a) => !isDemo(a));
  shuffle(others, rand);
  const declined = others[0];
  const pending = new Set(others.slice(1, 5));
  type Row = { proposalId: number; expertUserId: number; status: 'invited' | 'accepted' | 'declined'; affinityMilli: number };
  const assigned: Row[] = result.assignments.map((a) => ({
    proposalId: Number(a.proposalId),
    expertUserId: Number(a.expertId),
    affinityMilli: Math.round(a.affinity * 1000),
    status: a === declined ? 'declined' : pending.has(a) ? 'invited' : isDemo(a) && demoPins.findIndex((p) => p.proposalId === a.proposalId) < 2 ? 'invited' : 'accepted',
  }));
  if (declined) {
    const current = result.assignments.map((a) => ({ proposalId: a.proposalId, expertId: a.expertId }));
    const r = proposeReplacement(panelInput, current, { proposalId: declined.proposalId, expertId: declined.expertId });
    for (const x of r.replacements) assigned.push({ proposalId: Number(x.proposalId), expertUserId: Number(x.expertId), affinityMilli: Math.round(x.affinity * 1000), status: 'invited' });
  }
  await ReviewAssignment.bulkCreate(
    assigned.map((a) => ({
      callId: call.id,
      ...a,
      invitedAt,
      respondedAt: a.status === 'invited' ? null : seconds(invitedAt.getTime() + between(2, 72) * HOUR),
      declineReason: a.status === 'declined' ? DECLINE_REASON : null,
      createdBy: officer,
    })),
    { transaction: t },
  );
  const stored = await ReviewAssignment.findAll({ where: { callId: call.id }, attributes: ['id', 'proposalId', 'expertUserId', 'status', 'respondedAt'], order: [['id', 'ASC']], raw: true, transaction: t });
  const ctx = { ...SYSTEM, actorId: officer };
  await audit(t, ctx, { action: 'assignment.run', entityType: 'call', entityId: call.id, after: { proposed: result.assignments.length, kept: 0, stats: result.stats, totalAffinity: Math.round(result.totalAffinity * 1000) / 1000, shortfallCount: result.shortfalls.length, shortfalls: result.shortfalls.slice(0, 50), pinIssues: result.pinIssues } });
  await audit(t, ctx, { action: 'assignment.invite', entityType: 'call', entityId: call.id, after: { invited: result.assignments.length, experts: new Set(result.assignments.map((a) => a.expertId)).size } });

  // ---- reviews -------------------------------------------------------------------------------------------
  const criteria = (await CallCriterion.findAll({ where: { callId: call.id }, order: [['sortOrder', 'ASC']], raw: true, transaction: t })).map((c) => ({ id: c.id, weight: c.weight, scaleMax: c.scaleMax }));
  const quality = new Map(drafts.map((d) => [d.id, clamp(0.62 + 0.13 * normal(rand), 0.2, 0.95)]));
  const harshness = new Map<number, number>();
  const harshnessOf = (id: number) => harshness.get(id) ?? (harshness.set(id, (rand() - 0.55) * 0.32), harshness.get(id)!);
  const accepted = stored.filter((a) => a.status === 'accepted');
  // Two proposals whose three reviews are all submitted get one enthusiastic and one damning review.
  const byProposal = new Map<number, typeof accepted>();
  for (const a of accepted) byProposal.set(a.proposalId, [...(byProposal.get(a.proposalId) ?? []), a]);
  const split = [...byProposal.entries()].filter(([, xs]) => xs.length === REVIEW_K && xs.every((a) => a.expertUserId !== demoExpert)).slice(0, 2);
  const offset = new Map<number, number>();
  for (const [, xs] of split) offset.set(xs[0]!.id, +0.35), offset.set(xs[1]!.id, -0.35);
  const forced = new Set(split.flatMap(([, xs]) => xs.map((a) => a.id)));

  const reviews = [];
  const demoAccepted = accepted.filter((a) => a.expertUserId === demoExpert);
  for (const a of accepted) {
    const demoIndex = demoAccepted.indexOf(a);
    const r = rand();
    const state = demoIndex >= 0 ? (['submitted', 'draft', 'none'] as const)[demoIndex] ?? 'none' : forced.has(a.id) || r < 0.88 ? 'submitted' : r < 0.96 ? 'draft' : 'none';
    if (state === 'none') continue;
    const f = quality.get(a.proposalId)! + harshnessOf(a.expertUserId) + (offset.get(a.id) ?? 0);
    const scores: Scores = {};
    for (const c of criteria) {
      if (state === 'draft' && c !== criteria[0] && rand() < 0.5) continue;
      scores[String(c.id)] = 1 + Math.round(clamp(f + 0.06 * normal(rand), 0, 1) * (c.scaleMax - 1));
    }
    const score = weightedScore(scores, criteria);
    const band: Band = score === null ? 'mid' : score >= 75 ? 'high' : score >= 55 ? 'mid' : 'low';
    const recommendation: Recommendation = band === 'high' ? 'fund' : band === 'mid' ? 'fund_with_changes' : 'reject';
    const respondedMs = a.respondedAt ? new Date(a.respondedAt).getTime() : invitedAt.getTime();
    const savedAt = seconds(Math.min(respondedMs + between(1, 8) * DAY, nowMs - HOUR));
    reviews.push({
      assignmentId: a.id,
      scoresJson: JSON.stringify(scores),
      commentsToApplicant: state === 'submitted' || rand() < 0.5 ? pickOf(COMMENTS_TO_APPLICANT[band]) : null,
      confidentialComments: state === 'submitted' ? pickOf(CONFIDENTIAL_COMMENTS[band]) : null,
      recommendation: state === 'submitted' ? recommendationToDb(recommendation) : null,
      status: state,
      version: state === 'submitted' ? between(1, 3) : 1,
      submittedAt: state === 'submitted' ? savedAt : null,
      createdAt: seconds(savedAt.getTime() - between(1, 48) * HOUR),
      updatedAt: savedAt,
    });
  }
  await Review.bulkCreate(reviews, { transaction: t });
  await audit(t, SYSTEM, {
    action: 'seed.demo_review',
    entityType: 'call',
    entityId: call.id,
    after: { proposals: drafts.length, attachments: rows.attachments.length, assignments: assigned.length, submitted: reviews.filter((r) => r.status === 'submitted').length, drafts: reviews.filter((r) => r.status === 'draft').length, shortfalls: result.shortfalls.length },
  });
  return drafts.length;
}

function shuffle<T>(xs: T[], rand: Rand): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** A standard normal draw (Box–Muller). */
function normal(rand: Rand): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}
