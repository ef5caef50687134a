/**
 * The expert's side of review: their assignments, the review page's data (the proposal, never another
 * reviewer), saving a draft or submitting with an optimistic lock (`version`), and the reminder mails.
 * Every write runs in one transaction with an audit event; the due date is checked there against server time.
 */
import { Op, UniqueConstraintError, type Sequelize, type Transaction } from 'sequelize';
import { z } from 'zod';
import { Call, CallCriterion } from '../calls/models.js';
import { User } from '../people/models.js';
import { audit, SYSTEM, type AuditContext } from '../platform/audit.js';
import { withTransaction } from '../platform/db.js';
import { parseForm, type FieldErrors } from '../platform/forms.js';
import { queueMail } from '../platform/mail/outbox.js';
import { loadBundle } from '../proposals/bundle.js';
import { Proposal } from '../proposals/models.js';
import { formatYuan } from '../proposals/rules.js';
import { missingCriteria, parseScores, type CriterionFacts, type Scores } from './scoring.js';
import { Review, ReviewAssignment } from './review-models.js';
import type { AssignmentFacts } from './review-policy.js';

export const RECOMMENDATIONS = ['fund', 'fund_with_changes', 'reject'] as const;
export type Recommendation = (typeof RECOMMENDATIONS)[number];
/**
 * reviews.recommendation is VARCHAR(16) and "fund_with_changes" has 17 characters: the row stores a short code.
 * Read and write the column only through these two functions.
 */
const STORED: Record<Recommendation, string> = { fund: 'fund', fund_with_changes: 'fund_changes', reject: 'reject' };
export const recommendationToDb = (r: Recommendation | null): string | null => (r ? STORED[r] : null);
export const recommendationFromDb = (code: string | null): Recommendation | null => RECOMMENDATIONS.find((r) => STORED[r] === code) ?? null;
const LIST_STATUSES = ['invited', 'accepted', 'declined', 'withdrawn'] as const;
const DAY = 24 * 3600_000;
export const REMIND_WITHIN_MS = 3 * DAY;
export const REMIND_EVERY_MS = DAY;

export interface Criterion extends CriterionFacts {
  nameZh: string;
  nameEn: string | null;
}

export async function criteriaOf(callId: number, transaction?: Transaction): Promise<Criterion[]> {
  const rows = await CallCriterion.findAll({ where: { callId }, order: [['sortOrder', 'ASC'], ['id', 'ASC']], raw: true, transaction });
  return rows.map((c) => ({ id: c.id, nameZh: c.nameZh, nameEn: c.nameEn, weight: c.weight, scaleMax: c.scaleMax }));
}

/** A decline form as the expert typed it, when it was refused. */
export interface DeclineForm {
  reason: string;
  conflict: boolean;
  /** Locale key of the message next to the reason. */
  error: string;
}

/** The expert's assignments (not the officers' private proposals), grouped by status, newest first. */
export async function myAssignments(expertUserId: number) {
  const rows = await ReviewAssignment.findAll({ where: { expertUserId, status: { [Op.in]: [...LIST_STATUSES] } }, order: [['id', 'DESC']], raw: true });
  const proposals = new Map((await Proposal.findAll({ where: { id: { [Op.in]: rows.map((r) => r.proposalId) } }, attributes: ['id', 'title', 'titleEn'], raw: true })).map((p) => [p.id, p]));
  const calls = new Map((await Call.findAll({ where: { id: { [Op.in]: rows.map((r) => r.callId) } }, attributes: ['id', 'titleZh', 'titleEn', 'reviewDueAt'], raw: true })).map((c) => [c.id, c]));
  const reviews = new Map((await Review.findAll({ where: { assignmentId: { [Op.in]: rows.map((r) => r.id) } }, attributes: ['assignmentId', 'status'], raw: true })).map((r) => [r.assignmentId, r]));
  const items = rows.map((r) => {
    const p = proposals.get(r.proposalId);
    const c = calls.get(r.callId);
    return {
      id: r.id,
      status: r.status,
      proposalTitle: p?.title ?? '',
      proposalTitleEn: p?.titleEn ?? null,
      callTitleZh: c?.titleZh ?? '',
      callTitleEn: c?.titleEn ?? null,
      reviewDueAt: c?.reviewDueAt ?? null,
      reviewStatus: reviews.get(r.id)?.status ?? 'none',
      isInvited: r.status === 'invited',
      isAccepted: r.status === 'accepted',
      /** What the expert typed in this invitation's decline form when it was refused (shown again with the error). */
      decline: null as DeclineForm | null,
    };
  });
  return LIST_STATUSES.map((status) => ({ status, items: items.filter((i) => i.status === status) })).filter((g) => g.items.length > 0);
}

/** The review row of an accepted assignment, created empty (and audited) on first use. */
export async function ensureReview(sequelize: Sequelize, ctx: AuditContext, assignmentId: number): Promise<Review> {
  const found = await Review.findOne({ where: { assignmentId } });
  if (found) return found;
  try {
    return await withTransaction(sequelize, async (t) => {
      const r = await Review.create({ assignmentId, scoresJson: '{}' }, { transaction: t });
      await audit(t, ctx, { action: 'review.start', entityType: 'review', entityId: r.id, after: { assignmentId } });
      return r;
    });
  } catch (e) {
    if (!(e instanceof UniqueConstraintError)) throw e;
    return (await Review.findOne({ where: { assignmentId } }))!;
  }
}

/** What the reviewer reads: the proposal's content, consortium (institutions only), budget totals, attachments. */
export async function proposalForReviewer(proposalId: number) {
  const b = await loadBundle(proposalId);
  if (!b) return null;
  const p = b.proposal;
  const total = b.partners.reduce((s, x) => s + x.requestedFen, 0);
  const selfFunded = b.partners.reduce((s, x) => s + x.selfFundedFen, 0);
  return {
    id: p.id,
    title: p.title,
    titleEn: p.titleEn,
    abstract: p.abstract ?? '',
    keywords: p.keywords ?? '',
    durationMonths: p.durationMonths,
    partners: b.partners.map((x) => ({ institutionName: x.institutionName, institutionNameEn: x.institutionNameEn, provinceCode: x.provinceCode, isLead: x.isLead, role: x.role ?? '', requested: formatYuan(x.requestedFen), selfFunded: formatYuan(x.selfFundedFen) })),
    totalRequested: formatYuan(total),
    totalSelfFunded: formatYuan(selfFunded),
    attachments: b.attachments.map((a) => ({ kind: a.kind, originalName: a.originalName, url: `/proposals/${p.id}/attachments/${a.id}` })),
  };
}

export interface ReviewInput {
  scores: Scores;
  commentsToApplicant: string;
  confidentialComments: string;
  recommendation: Recommendation | null;
  version: number;
  intent: 'draft' | 'submit';
}

const text = z.string().max(20000, 'reviews:errors.tooLong').optional().default('');

/** The form: `score_<criterionId>` (empty or 1..scaleMax), comments, recommendation, version, intent. */
export function parseReviewForm(criteria: Criterion[], body: unknown): { ok: true; data: ReviewInput } | { ok: false; errors: FieldErrors; values: Record<string, string> } {
  const scoreFields = Object.fromEntries(criteria.map((c) => [`score_${c.id}`, z.string().optional().default('')]));
  const schema = z
    .object({
      ...scoreFields,
      commentsToApplicant: text,
      confidentialComments: text,
      recommendation: z.enum(['', ...RECOMMENDATIONS], 'reviews:errors.recommendation').optional().default(''),
      version: z.string().regex(/^\d{1,9}$/, 'reviews:errors.version'),
      intent: z.enum(['draft', 'submit']).optional().default('draft'),
    })
    .superRefine((v, c) => {
      const rec = v as Record<string, string>;
      for (const cr of criteria) {
        const raw = (rec[`score_${cr.id}`] ?? '').trim();
        if (raw === '') {
          if (rec.intent === 'submit') c.addIssue({ code: 'custom', path: [`score_${cr.id}`], message: 'reviews:errors.scoreRequired' });
        } else if (!/^\d{1,3}$/.test(raw) || Number(raw) < 1 || Number(raw) > cr.scaleMax) {
          c.addIssue({ code: 'custom', path: [`score_${cr.id}`], message: 'reviews:errors.scoreRange' });
        }
      }
      if (rec.intent === 'submit' && !rec.recommendation) c.addIssue({ code: 'custom', path: ['recommendation'], message: 'reviews:errors.recommendationRequired' });
    });
  const r = parseForm(schema, body);
  if (!r.ok) return r;
  const d = r.data as Record<string, string>;
  const scores: Scores = {};
  for (const cr of criteria) {
    const raw = (d[`score_${cr.id}`] ?? '').trim();
    if (raw) scores[String(cr.id)] = Number(raw);
  }
  return {
    ok: true,
    data: {
      scores,
      commentsToApplicant: d.commentsToApplicant ?? '',
      confidentialComments: d.confidentialComments ?? '',
      recommendation: (d.recommendation || null) as Recommendation | null,
      version: Number(d.version),
      intent: d.intent === 'submit' ? 'submit' : 'draft',
    },
  };
}

export type SaveResult =
  | { ok: true; submitted: boolean }
  | { ok: false; kind: 'conflict'; currentVersion: number }
  | { ok: false; kind: 'refused'; reason: string; status: 403 | 409 }
  | { ok: false; kind: 'invalid'; errors: FieldErrors };

/**
 * Save a draft or submit. `UPDATE … WHERE id = ? AND version = ?`: zero rows means someone saved meanwhile
 * (another tab) → conflict, nothing written. Submission: before the call's review due date (server time,
 * here in the transaction), every criterion scored; afterwards the review is read-only.
 */
export async function saveReview(sequelize: Sequelize, ctx: AuditContext, a: AssignmentFacts, input: ReviewInput, now = new Date()): Promise<SaveResult> {
  return withTransaction(sequelize, async (t) => {
    const assignment = await ReviewAssignment.findByPk(a.id, { transaction: t, lock: t.LOCK.UPDATE });
    if (!assignment || assignment.status !== 'accepted' || assignment.expertUserId !== a.expertUserId) return { ok: false, kind: 'refused', reason: 'reviews:policy.notAccepted', status: 403 } as const;
    const review = await Review.findOne({ where: { assignmentId: a.id }, transaction: t });
    if (!review) return { ok: false, kind: 'conflict', currentVersion: 0 } as const;
    if (review.status === 'submitted') return { ok: false, kind: 'refused', reason: 'reviews:errors.alreadySubmitted', status: 409 } as const;
    const submit = input.intent === 'submit';
    if (submit) {
      const call = await Call.findByPk(a.callId, { attributes: ['reviewDueAt'], raw: true, transaction: t });
      if (call?.reviewDueAt && now.getTime() > new Date(call.reviewDueAt).getTime()) return { ok: false, kind: 'refused', reason: 'reviews:errors.pastDue', status: 409 } as const;
      const criteria = await criteriaOf(a.callId, t);
      const missing = missingCriteria(input.scores, criteria);
      if (missing.length) return { ok: false, kind: 'invalid', errors: Object.fromEntries(missing.map((id) => [`score_${id}`, 'reviews:errors.scoreRequired'])) } as const;
    }
    const [count] = await Review.update(
      {
        scoresJson: JSON.stringify(input.scores),
        commentsToApplicant: input.commentsToApplicant || null,
        confidentialComments: input.confidentialComments || null,
        recommendation: recommendationToDb(input.recommendation),
        version: sequelize.literal('version + 1') as unknown as number,
        ...(submit ? { status: 'submitted' as const, submittedAt: now } : {}),
      },
      { where: { id: review.id, version: input.version }, transaction: t },
    );
    if (count !== 1) return { ok: false, kind: 'conflict', currentVersion: review.version } as const;
    await audit(t, ctx, {
      action: submit ? 'review.submit' : 'review.save_draft',
      entityType: 'review',
      entityId: review.id,
      before: { version: input.version, status: review.status },
      after: { version: input.version + 1, status: submit ? 'submitted' : 'draft', scores: input.scores, recommendation: input.recommendation },
    });
    return { ok: true, submitted: submit } as const;
  });
}

/** The stored review as form values (what a fresh page shows). */
export function reviewValues(r: Review, criteria: Criterion[]): Record<string, string> {
  const scores = parseScores(r.scoresJson);
  const v: Record<string, string> = {
    commentsToApplicant: r.commentsToApplicant ?? '',
    confidentialComments: r.confidentialComments ?? '',
    recommendation: recommendationFromDb(r.recommendation) ?? '',
    version: String(r.version),
  };
  for (const c of criteria) v[`score_${c.id}`] = scores[String(c.id)] !== undefined ? String(scores[String(c.id)]) : '';
  return v;
}

/**
 * Queue one reminder per expert with unfinished reviews (accepted assignment, review not submitted) whose
 * call's review due date is within 3 days, unless that expert was reminded in the last 24 hours.
 * Returns the number of mails queued.
 */
export async function sendReviewReminders(sequelize: Sequelize, now = new Date(), o: { baseUrl?: string } = {}): Promise<number> {
  const calls = await Call.findAll({ where: { reviewDueAt: { [Op.gt]: now, [Op.lte]: new Date(now.getTime() + REMIND_WITHIN_MS) } }, attributes: ['id', 'titleZh', 'titleEn', 'reviewDueAt'], raw: true });
  if (!calls.length) return 0;
  const callById = new Map(calls.map((c) => [c.id, c]));
  const assignments = await ReviewAssignment.findAll({ where: { status: 'accepted', callId: { [Op.in]: calls.map((c) => c.id) } }, raw: true });
  const byExpert = new Map<number, typeof assignments>();
  for (const a of assignments) byExpert.set(a.expertUserId, [...(byExpert.get(a.expertUserId) ?? []), a]);
  let queued = 0;
  for (const [expertUserId, list] of byExpert) {
    const sent = await withTransaction(sequelize, async (t) => {
      const user = await User.findByPk(expertUserId, { attributes: ['id', 'email', 'name', 'lang', 'disabledAt'], raw: true, transaction: t });
      if (!user || user.disabledAt) return false;
      const reviews = await Review.findAll({ where: { assignmentId: { [Op.in]: list.map((a) => a.id) } }, transaction: t, lock: t.LOCK.UPDATE });
      const byAssignment = new Map(reviews.map((r) => [r.assignmentId, r]));
      const cutoff = now.getTime() - REMIND_EVERY_MS;
      if (reviews.some((r) => r.remindedAt && new Date(r.remindedAt).getTime() > cutoff)) return false;
      const open = list.filter((a) => byAssignment.get(a.id)?.status !== 'submitted');
      if (!open.length) return false;
      const titles = new Map((await Proposal.findAll({ where: { id: { [Op.in]: open.map((a) => a.proposalId) } }, attributes: ['id', 'title', 'titleEn'], raw: true, transaction: t })).map((p) => [p.id, p]));
      const ids: number[] = [];
      for (const a of open) {
        const r = byAssignment.get(a.id) ?? (await Review.create({ assignmentId: a.id, scoresJson: '{}' }, { transaction: t }));
        ids.push(r.id);
      }
      await Review.update({ remindedAt: now }, { where: { id: { [Op.in]: ids } }, transaction: t });
      const items = open.map((a) => {
        const c = callById.get(a.callId)!;
        const p = titles.get(a.proposalId);
        return { title: p?.title ?? '', titleEn: p?.titleEn ?? null, callTitleZh: c.titleZh, callTitleEn: c.titleEn, dueAt: c.reviewDueAt, url: `${o.baseUrl ?? ''}/reviews/${a.id}` };
      });
      await queueMail(t, { to: { address: user.email, name: user.name }, template: 'review-reminder', lang: user.lang, data: { items, count: items.length, listUrl: `${o.baseUrl ?? ''}/reviews` } });
      await audit(t, SYSTEM, { action: 'review.remind', entityType: 'user', entityId: expertUserId, after: { reviewIds: ids } });
      return true;
    });
    if (sent) queued++;
  }
  return queued;
}
