/**
 * Review results of a call on the database, for its officers: the proposals under review (eligible ones), their
 * consortium, the assignments and the reviews' states, the submitted reviews' weighted scores — then the pure
 * ranking (results-rules.ts). Only submitted reviews of accepted assignments count; drafts never do. Proposals
 * the viewer is conflicted with are left out of everything the viewer sees. The export is audited.
 */
import { Op, QueryTypes, type Sequelize } from 'sequelize';
import { audit, type AuditContext } from '../platform/audit.js';
import { withTransaction } from '../platform/db.js';
import { byChineseName } from '../platform/i18n.js';
import { Proposal, ProposalPartner } from '../proposals/models.js';
import type { CallFacts } from './assignment-service.js';
import { criteriaOf, recommendationFromDb, type Criterion } from './review-service.js';
import { ReviewAssignment } from './review-models.js';
import { conflictedProposals, rankProposals, reviewProgress, visibleRanking, zByReview, type RankedProposal, type ResultSort, type SubmittedScore } from './results-rules.js';
import { parseScores, weightedScore } from './scoring.js';

export interface Viewer {
  id: number;
  institutionId: number | null;
}

export interface ProposalInfo {
  id: number;
  receiptNo: string;
  title: string;
  titleEn: string | null;
  leadName: string;
  leadNameEn: string | null;
  provinces: string[];
}

interface ReviewRow {
  id: number;
  assignmentId: number;
  proposalId: number;
  expertUserId: number;
  assignmentStatus: string;
  status: string;
  scoresJson: string;
  recommendation: string | null;
}

function groupBy<T>(xs: T[], key: (x: T) => number): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const x of xs) {
    const list = out.get(key(x));
    if (list) list.push(x);
    else out.set(key(x), [x]);
  }
  return out;
}

/** Everything the results pages are computed from, for one call. */
async function loadCallReviews(sequelize: Sequelize, call: CallFacts) {
  const proposals = await Proposal.findAll({ where: { callId: call.id, status: 'eligible' }, attributes: ['id', 'receiptNo', 'title', 'titleEn', 'piUserId', 'leadInstitutionId'], order: [['id', 'ASC']], raw: true });
  const ids = proposals.map((p) => p.id);
  const [partners, assignments, reviews, criteria] = await Promise.all([
    ids.length ? ProposalPartner.findAll({ where: { proposalId: { [Op.in]: ids } }, attributes: ['proposalId', 'institutionId', 'provinceCode', 'contactUserId', 'isLead'], raw: true }) : [],
    ReviewAssignment.findAll({ where: { callId: call.id, status: { [Op.ne]: 'withdrawn' } }, attributes: ['id', 'proposalId', 'expertUserId', 'status'], raw: true }),
    sequelize.query<ReviewRow>(
      `SELECT r.id, r.assignment_id AS assignmentId, a.proposal_id AS proposalId, a.expert_user_id AS expertUserId, a.status AS assignmentStatus,
              r.status, r.scores_json AS scoresJson, r.recommendation
         FROM reviews r JOIN review_assignments a ON a.id = r.assignment_id
        WHERE a.call_id = ?`,
      { replacements: [call.id], type: QueryTypes.SELECT },
    ),
    criteriaOf(call.id),
  ]);
  const instIds = [...new Set(partners.filter((x) => x.isLead).map((x) => x.institutionId))];
  const insts = instIds.length
    ? await sequelize.query<{ id: number; nameZh: string; nameEn: string | null }>('SELECT id, name_zh AS nameZh, name_en AS nameEn FROM institutions WHERE id IN (?)', { replacements: [instIds], type: QueryTypes.SELECT })
    : [];
  const inst = new Map(insts.map((i) => [Number(i.id), i]));
  const underReview = new Set(ids);
  const partnersOf = groupBy(partners, (x) => x.proposalId);
  const live = assignments.filter((a) => underReview.has(a.proposalId));
  const liveOf = groupBy(live, (a) => a.proposalId);
  const info = new Map<number, ProposalInfo>();
  for (const p of proposals) {
    const mine = partnersOf.get(p.id) ?? [];
    const lead = inst.get(mine.find((x) => x.isLead)?.institutionId ?? p.leadInstitutionId ?? 0);
    info.set(p.id, {
      id: p.id,
      receiptNo: p.receiptNo ?? `#${p.id}`,
      title: p.title,
      titleEn: p.titleEn,
      leadName: lead?.nameZh ?? '',
      leadNameEn: lead?.nameEn ?? null,
      provinces: [...new Set(mine.map((x) => x.provinceCode))].sort(),
    });
  }
  const ties = proposals.map((p) => {
    const mine = partnersOf.get(p.id) ?? [];
    return {
      proposalId: p.id,
      piUserId: p.piUserId,
      contactUserIds: mine.map((x) => x.contactUserId).filter((x): x is number => x !== null),
      institutionIds: mine.map((x) => x.institutionId),
      expertUserIds: (liveOf.get(p.id) ?? []).map((a) => a.expertUserId),
    };
  });
  // Submitted reviews of accepted assignments on proposals under review, with a complete weighted score.
  const submitted: Array<SubmittedScore & { assignmentId: number }> = [];
  for (const r of reviews) {
    if (r.status !== 'submitted' || r.assignmentStatus !== 'accepted' || !underReview.has(Number(r.proposalId))) continue;
    const score = weightedScore(parseScores(r.scoresJson), criteria);
    if (score === null) continue;
    submitted.push({ reviewId: Number(r.id), assignmentId: Number(r.assignmentId), reviewerId: Number(r.expertUserId), proposalId: Number(r.proposalId), score, recommendation: recommendationFromDb(r.recommendation) });
  }
  const reviewState = new Map(reviews.map((r) => [Number(r.assignmentId), r.status]));
  return { ids, info, live, ties, submitted, reviewState, criteria };
}

async function userNames(sequelize: Sequelize, ids: number[]) {
  const rows = ids.length
    ? await sequelize.query<{ id: number; name: string; inst: string | null; instEn: string | null }>(
        'SELECT u.id, u.name, i.name_zh AS inst, i.name_en AS instEn FROM users u LEFT JOIN institutions i ON i.id = u.institution_id WHERE u.id IN (?)',
        { replacements: [ids], type: QueryTypes.SELECT },
      )
    : [];
  return new Map(rows.map((u) => [Number(u.id), u]));
}

/** The call's ranking and progress as the viewer may see them. */
export async function callResults(sequelize: Sequelize, call: CallFacts, viewer: Viewer, sort: ResultSort) {
  const d = await loadCallReviews(sequelize, call);
  const hidden = conflictedProposals(viewer, d.ties);
  const ranking = visibleRanking(rankProposals({ proposalIds: d.ids, reviews: d.submitted, k: call.k, sort }), hidden);
  const states = d.live.filter((a) => !hidden.has(a.proposalId)).map((a) => ({ expertUserId: a.expertUserId, proposalId: a.proposalId, status: a.status, review: d.reviewState.get(a.id) ?? 'none' }));
  const progress = reviewProgress(states);
  const names = await userNames(sequelize, [...progress.perExpert.keys()]);
  return {
    ranking: ranking.map((r) => ({ ...r, proposal: d.info.get(r.proposalId)! })),
    hiddenCount: hidden.size,
    proposals: d.ids.length - hidden.size,
    total: progress.total,
    perExpert: [...progress.perExpert.entries()]
      .map(([id, c]) => ({ userId: id, name: names.get(id)?.name ?? `#${id}`, institution: names.get(id)?.inst ?? '', institutionEn: names.get(id)?.instEn ?? null, ...c }))
      .sort((a, b) => b.outstanding - a.outstanding || byChineseName(a.name, b.name)),
  };
}

export type ProposalReviews =
  | { ok: false; status: 403 | 404; reason: string }
  | {
      ok: true;
      proposal: ProposalInfo;
      criteria: Criterion[];
      row: RankedProposal;
      outstanding: number;
      reviews: Array<{
        expertName: string;
        institution: string;
        institutionEn: string | null;
        scores: Array<{ criterion: Criterion; score: number | null }>;
        weighted: number;
        z: number;
        recommendation: string | null;
        commentsToApplicant: string | null;
        confidentialComments: string | null;
        submittedAt: Date | null;
      }>;
    };

/** Every submitted review of one proposal of the call, with the expert's name (officers may see it), z and comments. */
export async function proposalReviews(sequelize: Sequelize, call: CallFacts, proposalId: number, viewer: Viewer): Promise<ProposalReviews> {
  const d = await loadCallReviews(sequelize, call);
  const proposal = d.info.get(proposalId);
  if (!proposal) return { ok: false, status: 404, reason: 'reviews:results.notUnderReview' };
  const hidden = conflictedProposals(viewer, d.ties);
  if (hidden.has(proposalId)) return { ok: false, status: 403, reason: 'reviews:results.conflicted' };
  const row = visibleRanking(rankProposals({ proposalIds: d.ids, reviews: d.submitted, k: call.k }), hidden).find((r) => r.proposalId === proposalId)!;
  // z over each reviewer's reviews in the call, as in the ranking.
  const z = zByReview(d.submitted);
  const mine = d.submitted.filter((r) => r.proposalId === proposalId);
  const full = mine.length
    ? await sequelize.query<{ id: number; scoresJson: string; commentsToApplicant: string | null; confidentialComments: string | null; submittedAt: Date | string | null }>(
        'SELECT id, scores_json AS scoresJson, comments_to_applicant AS commentsToApplicant, confidential_comments AS confidentialComments, submitted_at AS submittedAt FROM reviews WHERE id IN (?)',
        { replacements: [mine.map((r) => r.reviewId)], type: QueryTypes.SELECT },
      )
    : [];
  const text = new Map(full.map((r) => [Number(r.id), r]));
  const names = await userNames(sequelize, mine.map((r) => r.reviewerId));
  const outstanding = d.live.filter((a) => a.proposalId === proposalId && a.status === 'accepted' && d.reviewState.get(a.id) !== 'submitted').length;
  return {
    ok: true,
    proposal,
    criteria: d.criteria,
    row,
    outstanding,
    reviews: mine
      .sort((a, b) => b.score - a.score || a.reviewId - b.reviewId)
      .map((r) => {
        const t = text.get(r.reviewId);
        const scores = parseScores(t?.scoresJson);
        const u = names.get(r.reviewerId);
        return {
          expertName: u?.name ?? `#${r.reviewerId}`,
          institution: u?.inst ?? '',
          institutionEn: u?.instEn ?? null,
          scores: d.criteria.map((c) => ({ criterion: c, score: scores[String(c.id)] ?? null })),
          weighted: r.score,
          z: z.get(r.reviewId) ?? 0,
          recommendation: r.recommendation,
          commentsToApplicant: t?.commentsToApplicant ?? null,
          confidentialComments: t?.confidentialComments ?? null,
          submittedAt: t?.submittedAt ? new Date(t.submittedAt) : null,
        };
      }),
  };
}

/** Audit an export of the ranking (who took which call's results out of the platform, in what form). */
export async function auditExport(sequelize: Sequelize, ctx: AuditContext, callId: number, e: { format: string; sort: ResultSort; rows: number }): Promise<void> {
  await withTransaction(sequelize, (t) => audit(t, ctx, { action: 'review_results.export', entityType: 'call', entityId: callId, after: e }));
}
