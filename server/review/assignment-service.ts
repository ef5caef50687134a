/**
 * Reviewer assignment on the database: load a call's instance (eligible proposals with their consortium provinces
 * and texts; available experts with their load cap and the province of their institution; conflicts through
 * blockingPairs; officers' pins and forbids; live invitations as pins; declines as forbids), run the pure
 * optimiser (assignment.ts); the officers' commands (pins, forbids, invitations) and the experts' answers, each in
 * one transaction with an audit event. The run itself is in assignment-run.ts.
 */
import { Op, QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import { audit, type AuditContext } from '../platform/audit.js';
import { withTransaction } from '../platform/db.js';
import { queueMail } from '../platform/mail/outbox.js';
import { Call, CallPledge } from '../calls/models.js';
import { Proposal, ProposalPartner } from '../proposals/models.js';
import { AffinityIndex } from './affinity.js';
import { proposeReplacement, type AssignmentInput, type PairRef } from './assignment.js';
import { blockingPairs } from './conflicts.js';
import { conflictsForProposals } from './experts-conflicts.js';
import { DeclaredConflict } from './models.js';
import { AssignmentConstraint, ReviewAssignment } from './review-models.js';

/** Call statuses in which reviewers may be assigned. */
export const ASSIGNABLE_CALL_STATUSES = ['in_review', 'closed'] as const;
/** Rows that hold a reviewer slot. */
const LIVE = ['proposed', 'invited', 'accepted'] as const;
/** Rows the officer has sent: they survive a re-run and become pins. */
export const SENT = ['invited', 'accepted'] as const;

export interface CallFacts {
  id: number;
  titleZh: string;
  titleEn: string | null;
  status: string;
  k: number;
  provinces: string[];
}

export async function callFacts(callId: number, transaction?: Transaction): Promise<CallFacts | null> {
  const call = await Call.findByPk(callId, { attributes: ['id', 'titleZh', 'titleEn', 'status', 'reviewersPerProposal'], raw: true, transaction });
  if (!call) return null;
  const pledges = await CallPledge.findAll({ where: { callId }, attributes: ['provinceCode'], raw: true, transaction });
  return { id: call.id, titleZh: call.titleZh, titleEn: call.titleEn, status: call.status, k: call.reviewersPerProposal, provinces: pledges.map((p) => p.provinceCode) };
}

export interface ProposalRow {
  id: number;
  receiptNo: string | null;
  title: string;
  provinces: string[];
}

export interface ExpertRow {
  userId: number;
  name: string;
  email: string;
  lang: string;
  institution: string;
  province: string;
  maxLoad: number;
}

export interface Instance {
  proposals: ProposalRow[];
  experts: ExpertRow[];
  input: AssignmentInput;
}

const truthy = (v: unknown) => v === true || Number(v) === 1;

/** Available, enabled experts with a profile (province from their institution; '' when they have none). */
export async function loadExperts(sequelize: Sequelize, transaction?: Transaction): Promise<(ExpertRow & { keywords: string | null; profile: string; disciplines: string[] })[]> {
  const rows = await sequelize.query<{ userId: number; name: string; email: string; lang: string; inst: string | null; province: string | null; maxLoad: number; available: unknown; keywords: string | null; title: string | null; bio: string | null }>(
    `SELECT u.id AS userId, u.name, u.email, u.lang, i.name_zh AS inst, i.province_code AS province, ep.max_load AS maxLoad, ep.available,
            ep.keywords, ep.title, ep.bio
       FROM expert_profiles ep
       JOIN users u ON u.id = ep.user_id
       LEFT JOIN institutions i ON i.id = u.institution_id
      WHERE u.disabled_at IS NULL AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = 'expert')
      ORDER BY u.id`,
    { type: QueryTypes.SELECT, transaction },
  );
  const live = rows.filter((r) => truthy(r.available));
  const disc = await sequelize.query<{ userId: number; code: string }>('SELECT user_id AS userId, code FROM expert_disciplines ORDER BY user_id, sort_order', { type: QueryTypes.SELECT, transaction });
  const codes = new Map<number, string[]>();
  for (const d of disc) {
    const l = codes.get(Number(d.userId));
    if (l) l.push(d.code);
    else codes.set(Number(d.userId), [d.code]);
  }
  return live.map((r) => ({
    userId: Number(r.userId),
    name: r.name,
    email: r.email,
    lang: r.lang,
    institution: r.inst ?? '',
    province: r.province ?? '',
    maxLoad: Number(r.maxLoad),
    keywords: r.keywords,
    profile: [r.title ?? '', r.bio ?? ''].join('\n'),
    disciplines: codes.get(Number(r.userId)) ?? [],
  }));
}

/** Eligible proposals of the call (optionally only some), with their consortium provinces and texts. */
async function loadProposals(callId: number, only: number[] | null, transaction?: Transaction) {
  const where = { callId, status: 'eligible', ...(only ? { id: { [Op.in]: only } } : {}) };
  const proposals = await Proposal.findAll({ where, attributes: ['id', 'receiptNo', 'title', 'abstract', 'keywords', 'disciplineCode'], order: [['id', 'ASC']], raw: true, transaction });
  const partners = proposals.length
    ? await ProposalPartner.findAll({ where: { proposalId: { [Op.in]: proposals.map((p) => p.id) } }, attributes: ['proposalId', 'provinceCode'], raw: true, transaction })
    : [];
  const provinces = new Map<number, Set<string>>();
  for (const x of partners) {
    const s = provinces.get(x.proposalId) ?? new Set<string>();
    s.add(x.provinceCode);
    provinces.set(x.proposalId, s);
  }
  return proposals.map((p) => ({ ...p, provinces: [...(provinces.get(p.id) ?? [])].sort() }));
}

/**
 * The instance of a call. With `only`, just those proposals, and every expert's load reduced by the live rows
 * they hold on the call's other proposals (the replacement after a decline).
 */
export async function loadInstance(sequelize: Sequelize, call: CallFacts, transaction?: Transaction, only: number[] | null = null): Promise<Instance> {
  const [proposals, experts, rows, constraints] = await Promise.all([
    loadProposals(call.id, only, transaction),
    loadExperts(sequelize, transaction),
    ReviewAssignment.findAll({ where: { callId: call.id }, attributes: ['proposalId', 'expertUserId', 'status'], raw: true, transaction }),
    AssignmentConstraint.findAll({ where: { callId: call.id }, attributes: ['proposalId', 'expertUserId', 'kind'], raw: true, transaction }),
  ]);
  const inInstance = new Set(proposals.map((p) => p.id));
  const otherLoad = new Map<number, number>();
  if (only)
    for (const r of rows)
      if (!inInstance.has(r.proposalId) && (LIVE as readonly string[]).includes(r.status)) otherLoad.set(r.expertUserId, (otherLoad.get(r.expertUserId) ?? 0) + 1);
  const conflicts = blockingPairs(await conflictsForProposals(sequelize, proposals.map((p) => p.id), experts.map((e) => e.userId), new Date(), transaction));
  const pair = (x: { proposalId: number; expertUserId: number }): PairRef => ({ proposalId: x.proposalId, expertId: x.expertUserId });
  const mine = <T extends { proposalId: number }>(xs: T[]) => xs.filter((x) => inInstance.has(x.proposalId));
  const pins = [...mine(constraints).filter((c) => c.kind === 'pin'), ...mine(rows).filter((r) => (SENT as readonly string[]).includes(r.status))].map(pair);
  if (only) pins.push(...mine(rows).filter((r) => r.status === 'proposed').map(pair));
  const forbids = [...mine(constraints).filter((c) => c.kind === 'forbid'), ...mine(rows).filter((r) => r.status === 'declined' || r.status === 'withdrawn')].map(pair);
  const affinity = new AffinityIndex(
    proposals.map((p) => ({ title: p.title, abstract: p.abstract, keywords: p.keywords, discipline: p.disciplineCode })),
    experts.map((e) => ({ keywords: e.keywords, profile: e.profile, disciplines: e.disciplines })),
  );
  return {
    proposals: proposals.map((p) => ({ id: p.id, receiptNo: p.receiptNo, title: p.title, provinces: p.provinces })),
    experts: experts.map(({ keywords: _k, profile: _p, disciplines: _d, ...e }) => e),
    input: {
      proposals: proposals.map((p) => ({ id: p.id, k: call.k, provinces: p.provinces })),
      experts: experts.map((e) => ({ id: e.userId, province: e.province, load: Math.max(0, e.maxLoad - (otherLoad.get(e.userId) ?? 0)) })),
      affinity,
      conflicts,
      forbids,
      pins,
    },
  };
}

/** `field`: the form field a refusal is about, when it is about one (the message is shown next to it). */
export type CommandOutcome = { ok: true } | { ok: false; status: 400 | 403 | 404; reason: string; field?: string };

/** An officer pins or forbids a pair, with a reason. A forbid also withdraws the pair's current row. */
export async function addConstraint(
  sequelize: Sequelize,
  ctx: AuditContext,
  i: { callId: number; proposalId: number; expertUserId: number; kind: 'pin' | 'forbid'; reason: string },
): Promise<CommandOutcome> {
  return withTransaction(sequelize, async (t): Promise<CommandOutcome> => {
    const p = await Proposal.findOne({ where: { id: i.proposalId, callId: i.callId, status: 'eligible' }, attributes: ['id'], transaction: t });
    if (!p) return { ok: false, status: 400, reason: 'assignment:errors.proposalNotInCall', field: 'proposalId' };
    const [expert] = await sequelize.query<{ id: number }>("SELECT user_id AS id FROM user_roles WHERE user_id = ? AND role = 'expert'", { replacements: [i.expertUserId], type: QueryTypes.SELECT, transaction: t });
    if (!expert) return { ok: false, status: 400, reason: 'assignment:errors.notAnExpert', field: 'expertUserId' };
    const where = { callId: i.callId, proposalId: i.proposalId, expertUserId: i.expertUserId };
    await AssignmentConstraint.destroy({ where, transaction: t });
    const row = await AssignmentConstraint.create({ ...where, kind: i.kind, reason: i.reason, createdBy: ctx.actorId }, { transaction: t });
    if (i.kind === 'forbid') {
      await ReviewAssignment.destroy({ where: { ...where, status: 'proposed' }, transaction: t });
      await ReviewAssignment.update({ status: 'withdrawn' }, { where: { ...where, status: { [Op.in]: [...SENT] } }, transaction: t });
    }
    await audit(t, ctx, { action: `assignment.${i.kind}`, entityType: 'proposal', entityId: i.proposalId, after: { constraintId: row.id, expertUserId: i.expertUserId, reason: i.reason } });
    return { ok: true };
  });
}

export async function removeConstraint(sequelize: Sequelize, ctx: AuditContext, callId: number, id: number): Promise<CommandOutcome> {
  return withTransaction(sequelize, async (t): Promise<CommandOutcome> => {
    const row = await AssignmentConstraint.findOne({ where: { id, callId }, transaction: t });
    if (!row) return { ok: false, status: 404, reason: 'assignment:errors.constraintNotFound' };
    await row.destroy({ transaction: t });
    if (row.kind === 'forbid') {
      // The invitation the forbid withdrew (one pair, one row) no longer blocks the pair, unless a review was begun.
      const withdrawn = await ReviewAssignment.findOne({ where: { proposalId: row.proposalId, expertUserId: row.expertUserId, status: 'withdrawn' }, include: [{ association: 'review', required: false }], transaction: t });
      if (withdrawn && !(withdrawn as unknown as { review?: unknown }).review) await withdrawn.destroy({ transaction: t });
    }
    await audit(t, ctx, { action: 'assignment.remove_constraint', entityType: 'proposal', entityId: row.proposalId, before: { kind: row.kind, expertUserId: row.expertUserId, reason: row.reason } });
    return { ok: true };
  });
}

/** Sends the call's proposed rows: proposed → invited, one mail per expert (titles of their proposals only). */
export async function sendInvitations(sequelize: Sequelize, ctx: AuditContext, callId: number, baseUrl: string): Promise<{ invited: number; experts: number }> {
  return withTransaction(sequelize, async (t) => {
    const rows = await ReviewAssignment.findAll({ where: { callId, status: 'proposed' }, attributes: ['id', 'proposalId', 'expertUserId'], raw: true, transaction: t, lock: t.LOCK.UPDATE });
    if (!rows.length) return { invited: 0, experts: 0 };
    const now = new Date();
    await ReviewAssignment.update({ status: 'invited', invitedAt: now }, { where: { id: { [Op.in]: rows.map((r) => r.id) }, status: 'proposed' }, transaction: t });
    const call = await Call.findByPk(callId, { attributes: ['titleZh', 'titleEn', 'reviewDueAt'], raw: true, transaction: t });
    const titles = new Map(
      (await Proposal.findAll({ where: { id: { [Op.in]: [...new Set(rows.map((r) => r.proposalId))] } }, attributes: ['id', 'title', 'receiptNo'], raw: true, transaction: t })).map((p) => [p.id, p]),
    );
    const byExpert = new Map<number, number[]>();
    for (const r of rows) byExpert.set(r.expertUserId, [...(byExpert.get(r.expertUserId) ?? []), r.proposalId]);
    const users = await sequelize.query<{ id: number; name: string; email: string; lang: string }>('SELECT id, name, email, lang FROM users WHERE id IN (?)', {
      replacements: [[...byExpert.keys()]],
      type: QueryTypes.SELECT,
      transaction: t,
    });
    for (const u of users) {
      const lang = u.lang === 'en' ? 'en' : 'zh-CN';
      await queueMail(t, {
        to: { address: u.email, name: u.name },
        template: 'review-invitation',
        lang,
        data: {
          recipientName: u.name,
          call: lang === 'en' ? (call?.titleEn ?? call?.titleZh ?? '') : (call?.titleZh ?? ''),
          proposals: byExpert.get(Number(u.id))!.map((id) => ({ title: titles.get(id)?.title ?? '', receiptNo: titles.get(id)?.receiptNo ?? '' })),
          reviewsUrl: `${baseUrl}/reviews`,
        },
      });
    }
    await audit(t, ctx, { action: 'assignment.invite', entityType: 'call', entityId: callId, after: { invited: rows.length, experts: byExpert.size } });
    return { invited: rows.length, experts: byExpert.size };
  });
}

export type ResponseOutcome = { ok: true; replacement: boolean } | { ok: false; status: 400 | 403 | 404 | 409; reason: string };

/** The assigned expert accepts an invitation. */
export async function acceptInvitation(sequelize: Sequelize, ctx: AuditContext, expertUserId: number, assignmentId: number): Promise<ResponseOutcome> {
  return withTransaction(sequelize, async (t): Promise<ResponseOutcome> => {
    const row = await ReviewAssignment.findByPk(assignmentId, { transaction: t, lock: t.LOCK.UPDATE });
    if (!row || row.expertUserId !== expertUserId) return { ok: false, status: 403, reason: 'assignment:errors.notYours' };
    if (row.status !== 'invited') return { ok: false, status: 409, reason: 'assignment:errors.notInvited' };
    await row.update({ status: 'accepted', respondedAt: new Date() }, { transaction: t });
    await audit(t, ctx, { action: 'assignment.accept', entityType: 'review_assignment', entityId: row.id, before: { status: 'invited' }, after: { status: 'accepted' } });
    return { ok: true, replacement: false };
  });
}

/**
 * The assigned expert declines (optionally declaring a conflict); in the same transaction a replacement is
 * proposed by the same optimisation (stored as 'proposed'; officers invite it). The decliner stays forbidden.
 */
export async function declineInvitation(
  sequelize: Sequelize,
  ctx: AuditContext,
  expertUserId: number,
  assignmentId: number,
  i: { reason: string; conflict: boolean },
): Promise<ResponseOutcome> {
  return withTransaction(sequelize, async (t): Promise<ResponseOutcome> => {
    const row = await ReviewAssignment.findByPk(assignmentId, { transaction: t, lock: t.LOCK.UPDATE });
    if (!row || row.expertUserId !== expertUserId) return { ok: false, status: 403, reason: 'assignment:errors.notYours' };
    if (row.status !== 'invited' && row.status !== 'accepted') return { ok: false, status: 409, reason: 'assignment:errors.notInvited' };
    const before = row.status;
    await row.update({ status: 'declined', respondedAt: new Date(), declineReason: i.reason }, { transaction: t });
    await audit(t, ctx, { action: 'assignment.decline', entityType: 'review_assignment', entityId: row.id, before: { status: before }, after: { status: 'declined', reason: i.reason, conflict: i.conflict } });
    if (i.conflict) {
      // The declared-conflict service opens its own transaction; the declaration must commit with the decline.
      const existing = await DeclaredConflict.findOne({ where: { proposalId: row.proposalId, expertUserId }, transaction: t });
      if (existing) await existing.update({ reason: i.reason }, { transaction: t });
      else await DeclaredConflict.create({ proposalId: row.proposalId, expertUserId, reason: i.reason }, { transaction: t });
      await audit(t, ctx, { action: 'conflict.declare', entityType: 'proposal', entityId: row.proposalId, before: existing ? { reason: existing.reason } : null, after: { expertUserId, reason: i.reason } });
    }
    const call = await callFacts(row.callId, t);
    if (!call) return { ok: true, replacement: false };
    const inst = await loadInstance(sequelize, call, t, [row.proposalId]);
    if (!inst.proposals.length) return { ok: true, replacement: false };
    const current = (inst.input.pins ?? []) as PairRef[];
    const r = proposeReplacement(inst.input, current, { expertId: expertUserId, proposalId: row.proposalId });
    const fresh = r.replacements.map((a) => ({ callId: row.callId, proposalId: row.proposalId, expertUserId: Number(a.expertId), status: 'proposed' as const, affinityMilli: Math.round(a.affinity * 1000), createdBy: null }));
    if (fresh.length) await ReviewAssignment.bulkCreate(fresh, { transaction: t });
    await audit(t, ctx, {
      action: 'assignment.replace',
      entityType: 'proposal',
      entityId: row.proposalId,
      after: { declinedAssignmentId: row.id, proposed: fresh.map((f) => f.expertUserId), shortfall: r.shortfall },
    });
    return { ok: true, replacement: fresh.length > 0 };
  });
}
