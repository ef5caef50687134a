/**
 * Host-institution endorsement (依托单位审核): the lead institution's research office endorses a submitted
 * proposal, or returns it to the PI with a reason (back to draft, editable and resubmittable while the call is
 * open), before the call's endorsement deadline. Each command is one transaction: deadline and status checked
 * against server time inside it, a guarded update (WHERE status = 'submitted'), an audit event, the PI's mail.
 */
import { QueryTypes, Sequelize, type Sequelize as Db } from 'sequelize';
import { Call } from '../calls/models.js';
import { User } from '../people/models.js';
import { audit, type AuditContext } from '../platform/audit.js';
import { withTransaction } from '../platform/db.js';
import { queueMail } from '../platform/mail/outbox.js';
import type { Actor } from '../platform/policy.js';
import { Proposal } from './models.js';
import { accessFactsOf } from './office-policy.js';
import { relationsTo } from './policy.js';
import type { ProposalStatus } from './rules.js';
import { toDate } from '../platform/sql.js';
import { endorsementProblem, type EndorsementAction } from './screening-rules.js';

export const ENDORSEMENT_PAGE_SIZE = 50;
export const ENDORSEMENT_FILTERS = ['pending', 'all'] as const;

/** Institutions whose research office the actor is. */
export function adminInstitutions(actor: Actor | null): number[] {
  return (actor?.roles ?? []).filter((g) => g.role === 'institution_admin' && g.institutionId).map((g) => g.institutionId!);
}

export interface EndorsementRow {
  id: number;
  receiptNo: string;
  title: string;
  status: ProposalStatus;
  submittedAt: Date | null;
  piName: string;
  callTitleZh: string;
  callTitleEn: string | null;
  endorsementDeadlineAt: Date | null;
  provinces: string[];
  totalFen: number;
}

/**
 * The office's queue: proposals led by its institution(s) in calls that ask for endorsement, once submitted.
 * Awaiting endorsement first, then the newest. One statement for the page, one for the count.
 */
export async function endorsementQueue(sequelize: Db, institutionIds: number[], show: (typeof ENDORSEMENT_FILTERS)[number], page: number) {
  const replacements = { inst: institutionIds.length ? institutionIds : [0] };
  const where = `p.lead_institution_id IN (:inst) AND c.endorsement_required = 1 AND ${show === 'pending' ? "p.status = 'submitted'" : "p.status <> 'draft'"}`;
  const rows = await sequelize.query<{
    id: number;
    receipt_no: string | null;
    title: string;
    status: ProposalStatus;
    submitted_at: Date | string | null;
    pi_name: string | null;
    call_title_zh: string;
    call_title_en: string | null;
    endorsement_deadline_at: Date | string | null;
    provinces: string | null;
    total_fen: number | string | null;
  }>(
    `SELECT p.id, p.receipt_no, p.title, p.status, p.submitted_at, u.name AS pi_name, c.title_zh AS call_title_zh, c.title_en AS call_title_en,
       c.endorsement_deadline_at,
       (SELECT GROUP_CONCAT(DISTINCT pp.province_code) FROM proposal_partners pp WHERE pp.proposal_id = p.id) AS provinces,
       (SELECT COALESCE(SUM(bl.amount_fen), 0) FROM budget_lines bl WHERE bl.proposal_id = p.id) AS total_fen
     FROM proposals p JOIN calls c ON c.id = p.call_id LEFT JOIN users u ON u.id = p.pi_user_id
     WHERE ${where}
     ORDER BY CASE WHEN p.status = 'submitted' THEN 0 ELSE 1 END, p.submitted_at DESC, p.id DESC
     LIMIT ${ENDORSEMENT_PAGE_SIZE} OFFSET ${(Math.max(1, page) - 1) * ENDORSEMENT_PAGE_SIZE}`,
    { type: QueryTypes.SELECT, replacements },
  );
  const [c] = await sequelize.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM proposals p JOIN calls c ON c.id = p.call_id WHERE ${where}`, { type: QueryTypes.SELECT, replacements });
  const list: EndorsementRow[] = rows.map((r) => ({
    id: r.id,
    receiptNo: r.receipt_no ?? '',
    title: r.title,
    status: r.status,
    submittedAt: toDate(r.submitted_at),
    piName: r.pi_name ?? '',
    callTitleZh: r.call_title_zh,
    callTitleEn: r.call_title_en,
    endorsementDeadlineAt: toDate(r.endorsement_deadline_at),
    provinces: String(r.provinces ?? '').split(',').filter(Boolean).sort(),
    totalFen: Number(r.total_fen ?? 0),
  }));
  return { rows: list, count: Number(c?.n ?? 0) };
}

export type CommandResult = { ok: true } | { ok: false; status: 400 | 403 | 404 | 409; error: string };

/** Endorse (→ endorsed) or return (→ draft, with the reason the PI sees). */
export async function decideEndorsement(
  sequelize: Db,
  ctx: AuditContext,
  actor: Actor,
  proposalId: number,
  action: EndorsementAction,
  reason: string | null,
  links: { baseUrl: string },
): Promise<CommandResult> {
  return withTransaction(sequelize, async (t) => {
    const p = await Proposal.findByPk(proposalId, { transaction: t, lock: t.LOCK.UPDATE });
    if (!p) return { ok: false, status: 404, error: 'screening:errors.notFound' };
    const facts = await accessFactsOf(proposalId, t);
    if (!facts || !relationsTo(actor, facts).includes('hostOffice')) return { ok: false, status: 403, error: 'screening:policy.notYourInstitution' };
    const call = (await Call.findByPk(p.callId, { transaction: t }))!;
    const now = new Date();
    const problem = endorsementProblem({ status: p.status, endorsementRequired: !!call.endorsementRequired, endorsementDeadlineAt: call.endorsementDeadlineAt, callStatus: call.status }, now);
    if (problem) return { ok: false, status: 409, error: problem };
    const before = { status: p.status, returnReason: p.returnReason, endorsedBy: p.endorsedBy, endorsedAt: p.endorsedAt };
    const change =
      action === 'endorse'
        ? { status: 'endorsed' as const, endorsedBy: actor.id, endorsedAt: now, returnReason: null }
        : { status: 'draft' as const, endorsedBy: null, endorsedAt: null, returnReason: reason, version: Sequelize.literal('version + 1') as unknown as number };
    const [affected] = await Proposal.update(change, { where: { id: proposalId, status: 'submitted' }, transaction: t });
    if (affected !== 1) return { ok: false, status: 409, error: 'screening:endorse.errors.notPending' };
    await audit(t, ctx, {
      action: action === 'endorse' ? 'proposal.endorse' : 'proposal.return',
      entityType: 'proposal',
      entityId: proposalId,
      before,
      after: { status: change.status, returnReason: change.returnReason, endorsedBy: change.endorsedBy, endorsedAt: change.endorsedAt },
    });
    const pi = await User.findByPk(p.piUserId, { attributes: ['email', 'name', 'lang'], raw: true, transaction: t });
    if (pi) {
      await queueMail(t, {
        to: { address: pi.email, name: pi.name },
        template: action === 'endorse' ? 'proposal-endorsed' : 'proposal-returned',
        lang: pi.lang,
        data: { title: p.title, receiptNo: p.receiptNo ?? '', reason: reason ?? '', url: `${links.baseUrl}/proposals/${proposalId}`, callTitleZh: call.titleZh, callTitleEn: call.titleEn },
      });
    }
    return { ok: true };
  });
}
