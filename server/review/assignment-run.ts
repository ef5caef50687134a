/**
 * The officer's "run the assignment" on the database, in two steps so that the write transaction stays short:
 *   plan   — outside any transaction: the fingerprint of the call's inputs (assignment-fingerprint.ts), then the
 *            instance loaded and solved (seconds for 2,000 proposals over 5,000 experts);
 *   store  — one short transaction: the fingerprint again (a locking read on MySQL), and only if it is unchanged,
 *            one delete of the previous 'proposed' rows, bulk inserts of the new ones and the audit event.
 * If something the result depends on changed while it was computed (a pin, a forbid, a declared conflict, an
 * invitation or its answer, an expert's profile…), the run is computed once more; if it changes again, the officer
 * is told to run it again — a stale result is never stored.
 */
import { Op, type Sequelize, type Transaction } from 'sequelize';
import { audit, AuditEvent, type AuditContext } from '../platform/audit.js';
import { withTransaction } from '../platform/db.js';
import { assignReviewers, type AssignmentResult } from './assignment.js';
import { assignmentFingerprint } from './assignment-fingerprint.js';
import type { Shortfall } from './assignment-report.js';
import { ASSIGNABLE_CALL_STATUSES, callFacts, loadInstance, SENT } from './assignment-service.js';
import { ReviewAssignment } from './review-models.js';

export type RunOutcome = { ok: true; stored: number; shortfalls: number; full: number } | { ok: false; reason: string };

/** The reason given when the inputs changed during the computation (twice). */
export const CHANGED_DURING_RUN = 'assignment:errors.changedDuringRun';

/** A computed run not stored yet: the optimiser's result and the fingerprint of the inputs it was computed from. */
export interface AssignmentPlan {
  callId: number;
  fingerprint: string;
  result: AssignmentResult;
  /** "proposalId:expertUserId" of the rows already sent (invited, accepted): they stay, as pins. */
  kept: Set<string>;
}

const INSERT_CHUNK = 1000;

/** Runs the optimiser for the call and replaces its 'proposed' rows (invited and accepted rows stay, as pins). */
export async function runAssignment(sequelize: Sequelize, ctx: AuditContext, callId: number): Promise<RunOutcome> {
  for (let attempt = 1; ; attempt++) {
    const planned = await planAssignment(sequelize, callId);
    if (!planned.ok) return planned;
    const out = await storeAssignment(sequelize, ctx, planned.plan);
    if (out.ok || out.reason !== CHANGED_DURING_RUN || attempt >= 2) return out;
  }
}

/** Step one, outside any transaction: fingerprint, load, solve. */
export async function planAssignment(sequelize: Sequelize, callId: number): Promise<{ ok: true; plan: AssignmentPlan } | { ok: false; reason: string }> {
  // First: whatever changes from here on shows in the fingerprint taken when storing.
  const fingerprint = await assignmentFingerprint(sequelize, callId);
  const call = await callFacts(callId);
  if (!call) return { ok: false, reason: 'assignment:errors.notFound' };
  if (!(ASSIGNABLE_CALL_STATUSES as readonly string[]).includes(call.status)) return { ok: false, reason: 'assignment:errors.callNotInReview' };
  const [inst, sent] = await Promise.all([
    loadInstance(sequelize, call),
    ReviewAssignment.findAll({ where: { callId, status: { [Op.in]: [...SENT] } }, attributes: ['proposalId', 'expertUserId'], raw: true }),
  ]);
  const result = assignReviewers(inst.input);
  return { ok: true, plan: { callId, fingerprint, result, kept: new Set(sent.map((r) => `${r.proposalId}:${r.expertUserId}`)) } };
}

/** Step two, one short transaction: store the plan if its inputs are unchanged, else CHANGED_DURING_RUN. */
export async function storeAssignment(sequelize: Sequelize, ctx: AuditContext, plan: AssignmentPlan): Promise<RunOutcome> {
  const { callId, result, kept } = plan;
  return withTransaction(
    sequelize,
    async (t): Promise<RunOutcome> => {
      if ((await assignmentFingerprint(sequelize, callId, t)) !== plan.fingerprint) return { ok: false, reason: CHANGED_DURING_RUN };
      const before = await ReviewAssignment.count({ where: { callId, status: 'proposed' }, transaction: t });
      await ReviewAssignment.destroy({ where: { callId, status: 'proposed' }, transaction: t });
      const now = new Date();
      const fresh = result.assignments
        .filter((a) => !kept.has(`${a.proposalId}:${a.expertId}`))
        .map((a) => ({ call_id: callId, proposal_id: Number(a.proposalId), expert_user_id: Number(a.expertId), status: 'proposed', affinity_milli: Math.round(a.affinity * 1000), created_by: ctx.actorId, created_at: now, updated_at: now }));
      await insertRows(sequelize, t, fresh);
      await audit(t, ctx, {
        action: 'assignment.run',
        entityType: 'call',
        entityId: callId,
        before: { proposed: before },
        after: {
          proposed: fresh.length,
          kept: kept.size,
          stats: result.stats,
          totalAffinity: Math.round(result.totalAffinity * 1000) / 1000,
          shortfallCount: result.shortfalls.length,
          // The page shows the reasons of the latest run: as many as fit in the audit row (TEXT, 64 KB on MySQL).
          shortfalls: fitting(result.shortfalls, 40_000),
          pinIssues: fitting(result.pinIssues, 8_000),
        },
      });
      return { ok: true, stored: fresh.length, shortfalls: result.shortfalls.length, full: result.stats.full };
    },
    { serializable: true },
  );
}

/**
 * Bulk INSERTs of plain rows (column names), formatted by the model's column types: half the time of bulkCreate,
 * which builds and validates a model instance per row.
 */
async function insertRows(sequelize: Sequelize, t: Transaction, rows: Record<string, unknown>[]): Promise<void> {
  const columns = Object.fromEntries(Object.values(ReviewAssignment.getAttributes()).map((a) => [a.field!, a]));
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) await sequelize.getQueryInterface().bulkInsert(ReviewAssignment.getTableName(), rows.slice(i, i + INSERT_CHUNK), { transaction: t }, columns);
}

/** The longest prefix of `items` whose JSON takes at most `bytes` bytes. */
export function fitting<T>(items: readonly T[], bytes: number): T[] {
  let used = 2;
  const out: T[] = [];
  for (const x of items) {
    used += Buffer.byteLength(JSON.stringify(x)) + 1;
    if (used > bytes) break;
    out.push(x);
  }
  return out;
}

/** The shortfalls and pin issues recorded by the latest run of the call. */
export async function latestRun(callId: number): Promise<{ at: Date; shortfallCount: number; shortfalls: Shortfall[]; pinIssues: { expertId: number; proposalId: number; code: string; honoured: boolean }[] } | null> {
  const ev = await AuditEvent.findOne({ where: { action: 'assignment.run', entityType: 'call', entityId: String(callId) }, order: [['id', 'DESC']], attributes: ['afterJson', 'createdAt'], raw: true });
  if (!ev?.afterJson) return null;
  const after = JSON.parse(ev.afterJson) as { shortfallCount?: number; shortfalls?: Shortfall[]; pinIssues?: [] };
  return { at: ev.createdAt, shortfallCount: after.shortfallCount ?? after.shortfalls?.length ?? 0, shortfalls: after.shortfalls ?? [], pinIssues: after.pinIssues ?? [] };
}
