/**
 * Submission and withdrawal. Submitting is idempotent: the form carries a random key (UNIQUE in
 * proposal_submissions), so a double click, a retry or a second tab never makes a second submission.
 *
 * At a deadline hundreds of PIs submit at once, and writers queue for SQLite's one writer (or MySQL's
 * connections), so the write transaction holds as few statements as the guarantees allow. Everything that only
 * reads — the proposal bundle (one statement, with the 限项 count), the call, the checklist (rules, attachments,
 * sanctions), the snapshot and its sha256, the receipt number, the rendered mail — is prepared first, against
 * `now` (server time taken when the request arrived). The transaction then holds only: on MySQL the PI's row lock
 * (so two of their proposals cannot both pass the per-PI limit), one guarded UPDATE `draft → submitted` that must
 * hit the very version that was checked (every editing command bumps `proposals.version`, see lockDraft) while
 * the PI's other active proposals are still those counted, and then, side by side, the submission row, the audit
 * event and the outbox row. If anything changed in between, the whole check runs again on fresh data.
 */
import { UniqueConstraintError } from 'sequelize';
import { audit, type AuditContext } from '../platform/audit.js';
import { withTransaction } from '../platform/db.js';
import { formatDateTime } from '../platform/views.js';
import { prepareMail, queueMail } from '../platform/mail/outbox.js';
import { inParallel, sqlOf } from '../platform/sql.js';
import { Forbidden, type Actor } from '../platform/policy.js';
import { loadBundle, snapshotOf, type ProposalBundle } from './bundle.js';
import { Proposal, ProposalSubmission } from './models.js';
import { ACTIVE_STATUSES, receiptNumber, type ChecklistItem } from './rules.js';
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

/** The proposal (or the PI's other proposals) changed between the check and the write: check again. */
const CHANGED = Symbol('changed');
const ATTEMPTS = 3;

/**
 * Submit the PI's draft. `loaded` is the bundle the route's policy already read (saves a reload on the
 * first attempt; the guarded UPDATE makes a stale one harmless).
 */
export async function submitProposal(d: Deps, ctx: AuditContext, actor: Actor, proposalId: number, idempotencyKey: string, now = clock.now(), loaded?: ProposalBundle): Promise<SubmitOutcome> {
  for (let attempt = 1; ; attempt++) {
    let out: SubmitOutcome | typeof CHANGED;
    try {
      out = await attemptSubmit(d, ctx, actor, proposalId, idempotencyKey, now, attempt === 1 ? loaded : undefined);
    } catch (e) {
      // The key was used already (UNIQUE index): by this form's earlier submission, or by a twin request that
      // won the race. Answer with what that produced.
      if (!(e instanceof UniqueConstraintError)) throw e;
      return (await answerForKnownKey(proposalId, idempotencyKey)) ?? { kind: 'stale' };
    }
    if (out !== CHANGED) return out;
    if (attempt >= ATTEMPTS) return (await answerForKnownKey(proposalId, idempotencyKey)) ?? { kind: 'stale' };
  }
}

/** What to answer when this form's key was already used, or null when it was not. */
async function answerForKnownKey(proposalId: number, idempotencyKey: string): Promise<SubmitOutcome | null> {
  const prior = await ProposalSubmission.findOne({ where: { idempotencyKey }, attributes: ['proposalId', 'receiptNo'], raw: true });
  if (!prior) return null;
  const p = await Proposal.findByPk(proposalId, { attributes: ['status', 'receiptNo'], raw: true });
  if (prior.proposalId !== proposalId || !p || p.status === 'draft') return { kind: 'stale' };
  return p.receiptNo === prior.receiptNo ? { kind: 'same', receiptNo: prior.receiptNo } : { kind: 'already', receiptNo: p.receiptNo };
}

async function attemptSubmit(d: Deps, ctx: AuditContext, actor: Actor, proposalId: number, idempotencyKey: string, now: Date, loaded?: ProposalBundle): Promise<SubmitOutcome | typeof CHANGED> {
  const bundle = loaded ?? (await loadBundle(proposalId));
  if (!bundle) throw new Forbidden(404, 'proposals:errors.notFound');
  const proposal = bundle.proposal;
  if (proposal.piUserId !== actor.id) throw new Forbidden(403, 'proposals:policy.piOnly');
  // Submitted already: by this very form (double click, retry) or another. A draft with a used key (a form from
  // before a withdrawal) is caught by the UNIQUE key at the insert.
  if (proposal.status !== 'draft') return (await answerForKnownKey(proposalId, idempotencyKey)) ?? { kind: 'already', receiptNo: proposal.receiptNo };
  const call = await loadCallSettings(proposal.callId);
  if (!call || windowOf(call, now) !== 'open') throw new Forbidden(403, 'proposals:window.closed');
  const ev = await evaluate(bundle, call, undefined, now);
  if (ev.failures.length) return { kind: 'incomplete', failures: ev.failures };

  // Valid as long as the version below still holds: every submission and withdrawal bumps it.
  const sql = sqlOf(d.sequelize);
  const receiptNo = receiptNumber(call.id, proposalId, now, bundle.submissions.length + 1);
  const snap = snapshotOf(bundle);
  // The receipt goes to the PI, who is the actor (checked above).
  const lang = actor.lang;
  const mail = prepareMail({
    to: { address: actor.email, name: actor.name },
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
  const mysql = sql.dialect === 'mysql';

  return withTransaction(d.sequelize, async (t): Promise<SubmitOutcome | typeof CHANGED> => {
    // Plain SQL (platform/sql.ts), and as few statements as the guarantees allow: at a deadline hundreds of
    // these queue for the writer (SQLite) or their connections (MySQL), each statement one more wait.
    // MySQL: the PI's row lock serialises their submits; SQLite has one writer at a time anyway.
    if (mysql) await sql.one('SELECT id FROM users WHERE id = ? FOR UPDATE', [actor.id], t);
    // Draft → submitted only if the proposal is the very version that was checked and the PI's other active
    // proposals in the call (限项) are still those that were counted (MySQL reads its own table in an UPDATE
    // only through a derived table that is materialised, hence the aggregate inside it).
    const others = `SELECT COUNT(*) AS n FROM proposals o WHERE o.call_id = ? AND o.pi_user_id = ? AND o.status IN (?) AND o.id <> ?`;
    const written = new Date();
    const { changes } = await sql.run(
      `UPDATE proposals SET status = 'submitted', version = version + 1, receipt_no = ?, submitted_at = ?, return_reason = NULL, updated_at = ?
       WHERE id = ? AND status = 'draft' AND version = ? AND (${mysql ? `SELECT n FROM (${others}) AS counted` : others}) = ?`,
      [receiptNo, now, written, proposalId, proposal.version, proposal.callId, proposal.piUserId, [...ACTIVE_STATUSES], proposalId, ev.otherActiveOfPi],
      t,
    );
    if (changes !== 1) return CHANGED;
    await inParallel([
      sql.run(
        'INSERT INTO proposal_submissions (proposal_id, idempotency_key, receipt_no, snapshot, snapshot_sha256, submitted_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [proposalId, idempotencyKey, receiptNo, snap.json, snap.sha256, actor.id, written],
        t,
      ),
      audit(t, ctx, { action: 'proposal.submit', entityType: 'proposal', entityId: proposalId, before: { status: 'draft' }, after: { status: 'submitted', receiptNo, snapshotSha256: snap.sha256 } }),
      queueMail(t, mail),
    ]);
    return { kind: 'submitted', receiptNo };
  });
}

/** Back to draft while the call is open; the submissions stay as history, the proposal loses its receipt. */
export async function withdrawProposal(d: Deps, ctx: AuditContext, actor: Actor, proposalId: number, now = clock.now()): Promise<void> {
  const sql = sqlOf(d.sequelize);
  await withTransaction(d.sequelize, async (t) => {
    const lock = sql.dialect === 'sqlite' ? '' : ' FOR UPDATE';
    const proposal = await sql.one<{ pi_user_id: number; call_id: number; status: string; receipt_no: string | null }>(`SELECT pi_user_id, call_id, status, receipt_no FROM proposals WHERE id = ?${lock}`, [proposalId], t);
    if (!proposal) throw new Forbidden(404, 'proposals:errors.notFound');
    if (proposal.pi_user_id !== actor.id) throw new Forbidden(403, 'proposals:policy.piOnly');
    if (proposal.status !== 'submitted' && proposal.status !== 'endorsed') throw new Forbidden(403, 'proposals:withdraw.notSubmitted');
    // The call's dates as submitting reads them (cached for a second, dropped at once when this process changes a call).
    const call = await loadCallSettings(proposal.call_id);
    if (!call || windowOf(call, now) !== 'open') throw new Forbidden(403, 'proposals:window.closed');
    // The audit event goes alongside the guarded UPDATE; if that finds nothing to change, the refusal rolls both back.
    const [{ changes }] = await inParallel([
      sql.run(
        "UPDATE proposals SET status = 'draft', version = version + 1, receipt_no = NULL, submitted_at = NULL, endorsed_by = NULL, endorsed_at = NULL, updated_at = ? WHERE id = ? AND status IN ('submitted', 'endorsed')",
        [new Date(), proposalId],
        t,
      ),
      audit(t, ctx, { action: 'proposal.withdraw', entityType: 'proposal', entityId: proposalId, before: { status: proposal.status, receiptNo: proposal.receipt_no }, after: { status: 'draft' } }),
    ]);
    if (changes !== 1) throw new Forbidden(403, 'proposals:withdraw.notSubmitted');
  });
}
