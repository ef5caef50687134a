/**
 * Submission and withdrawal. Submitting is idempotent: the form carries a random key (UNIQUE in
 * proposal_submissions); the draft → submitted change is one guarded UPDATE that must hit exactly one row; the
 * deadline is checked inside the transaction against server time; the immutable snapshot, the receipt
 * number, the audit event and the receipt mail are written in that same transaction.
 */
import { Op, UniqueConstraintError } from 'sequelize';
import { Call } from '../calls/models.js';
import { User } from '../people/models.js';
import { audit, type AuditContext } from '../platform/audit.js';
import { withTransaction } from '../platform/db.js';
import { formatDateTime } from '../platform/views.js';
import { queueMail } from '../platform/mail/outbox.js';
import { Forbidden, type Actor } from '../platform/policy.js';
import { loadBundle, snapshotOf } from './bundle.js';
import { Proposal, ProposalSubmission } from './models.js';
import { receiptNumber, type ChecklistItem } from './rules.js';
import { clock, evaluate, loadCallSettings, windowOf, type Deps } from './service.js';

export type SubmitOutcome =
  | { kind: 'submitted'; receiptNo: string }
  /** The same form again (double click, retry): the receipt of the submission it made. */
  | { kind: 'same'; receiptNo: string }
  /** Another form (second tab) after the proposal was submitted: the existing receipt. */
  | { kind: 'already'; receiptNo: string | null }
  /** A form from before a withdrawal: reload and submit again. */
  | { kind: 'stale' }
  | { kind: 'incomplete'; failures: ChecklistItem[] };

class LostRace extends Error {}

export async function submitProposal(d: Deps, ctx: AuditContext, actor: Actor, proposalId: number, idempotencyKey: string, now = clock.now()): Promise<SubmitOutcome> {
  try {
    return await withTransaction(d.sequelize, async (t): Promise<SubmitOutcome> => {
      // Lock order: the PI's user row (so two of their proposals cannot both pass the per-PI limit), then the proposal.
      await User.findByPk(actor.id, { transaction: t, lock: t.LOCK.UPDATE, attributes: ['id'] });
      const proposal = await Proposal.findByPk(proposalId, { transaction: t, lock: t.LOCK.UPDATE });
      if (!proposal) throw new Forbidden(404, 'proposals:errors.notFound');
      if (proposal.piUserId !== actor.id) throw new Forbidden(403, 'proposals:policy.piOnly');
      const prior = await ProposalSubmission.findOne({ where: { idempotencyKey }, transaction: t });
      if (prior) {
        if (prior.proposalId === proposalId && proposal.status !== 'draft' && proposal.receiptNo === prior.receiptNo) return { kind: 'same', receiptNo: prior.receiptNo };
        return prior.proposalId === proposalId && proposal.status !== 'draft' ? { kind: 'already', receiptNo: proposal.receiptNo } : { kind: 'stale' };
      }
      if (proposal.status !== 'draft') return { kind: 'already', receiptNo: proposal.receiptNo };
      const call = await loadCallSettings(proposal.callId, t);
      if (!call || windowOf(call, now) !== 'open') throw new Forbidden(403, 'proposals:window.closed');
      const bundle = (await loadBundle(proposalId, t))!;
      const { failures } = await evaluate(bundle, call, t, now);
      if (failures.length) return { kind: 'incomplete', failures };

      const nth = (await ProposalSubmission.count({ where: { proposalId }, transaction: t })) + 1;
      const receiptNo = receiptNumber(call.id, proposalId, now, nth);
      const [affected] = await Proposal.update(
        { status: 'submitted', version: d.sequelize.literal('version + 1') as unknown as number, receiptNo, submittedAt: now, returnReason: null },
        { where: { id: proposalId, status: 'draft' }, transaction: t },
      );
      if (affected !== 1) throw new LostRace();
      const snap = snapshotOf(bundle);
      await ProposalSubmission.create({ proposalId, idempotencyKey, receiptNo, snapshot: snap.json, snapshotSha256: snap.sha256, submittedBy: actor.id }, { transaction: t });
      await audit(t, ctx, { action: 'proposal.submit', entityType: 'proposal', entityId: proposalId, before: { status: 'draft' }, after: { status: 'submitted', receiptNo, snapshotSha256: snap.sha256 } });
      const pi = await User.findByPk(proposal.piUserId, { transaction: t });
      if (pi) {
        const lang = pi.lang;
        await queueMail(t, {
          to: { address: pi.email, name: pi.name },
          template: 'proposal-receipt',
          lang,
          data: {
            receiptNo,
            proposalTitle: proposal.title,
            callTitle: lang === 'en' && call.titleEn ? call.titleEn : call.titleZh,
            submittedAt: formatDateTime(now, lang),
            snapshotSha256: snap.sha256,
            attachments: bundle.attachments.map((a) => ({ name: a.originalName, sha256: a.sha256 })),
            url: `${d.baseUrl}/proposals/${proposalId}`,
          },
        });
      }
      return { kind: 'submitted', receiptNo };
    });
  } catch (e) {
    if (!(e instanceof LostRace) && !(e instanceof UniqueConstraintError)) throw e;
    // Someone else's transaction got there first: answer with what it produced.
    const prior = await ProposalSubmission.findOne({ where: { idempotencyKey } });
    if (prior) return { kind: 'same', receiptNo: prior.receiptNo };
    const p = await Proposal.findByPk(proposalId, { attributes: ['receiptNo'] });
    return { kind: 'already', receiptNo: p?.receiptNo ?? null };
  }
}

/** Back to draft while the call is open; the submissions stay as history, the proposal loses its receipt. */
export async function withdrawProposal(d: Deps, ctx: AuditContext, actor: Actor, proposalId: number, now = clock.now()): Promise<void> {
  await withTransaction(d.sequelize, async (t) => {
    const proposal = await Proposal.findByPk(proposalId, { transaction: t, lock: t.LOCK.UPDATE });
    if (!proposal) throw new Forbidden(404, 'proposals:errors.notFound');
    if (proposal.piUserId !== actor.id) throw new Forbidden(403, 'proposals:policy.piOnly');
    if (proposal.status !== 'submitted' && proposal.status !== 'endorsed') throw new Forbidden(403, 'proposals:withdraw.notSubmitted');
    const call = await Call.findByPk(proposal.callId, { transaction: t });
    if (!call || windowOf(call, now) !== 'open') throw new Forbidden(403, 'proposals:window.closed');
    const [affected] = await Proposal.update(
      { status: 'draft', version: d.sequelize.literal('version + 1') as unknown as number, receiptNo: null, submittedAt: null, endorsedBy: null, endorsedAt: null },
      { where: { id: proposalId, status: { [Op.in]: ['submitted', 'endorsed'] } }, transaction: t },
    );
    if (affected !== 1) throw new Forbidden(403, 'proposals:withdraw.notSubmitted');
    await audit(t, ctx, { action: 'proposal.withdraw', entityType: 'proposal', entityId: proposalId, before: { status: proposal.status, receiptNo: proposal.receiptNo }, after: { status: 'draft' } });
  });
}

/** Earlier submissions of a proposal (receipts and snapshot hashes), newest first. */
export async function submissionHistory(proposalId: number) {
  const rows = await ProposalSubmission.findAll({ where: { proposalId }, attributes: ['id', 'receiptNo', 'snapshotSha256', 'createdAt'], order: [['id', 'DESC']] });
  return rows.map((r) => ({ receiptNo: r.receiptNo, snapshotSha256: r.snapshotSha256, createdAt: r.createdAt }));
}
