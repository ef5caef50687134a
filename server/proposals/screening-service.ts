/**
 * Screening (形式审查) commands and loaders: the calls in scope with their parsed rules, the automatic
 * eligibility report of one proposal, and the officer's eligible / ineligible decision — one transaction with a
 * guarded status update, an audit event and the PI's mail.
 */
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import { Call, onCallsChanged } from '../calls/models.js';
import type { CallStatus } from '../calls/rules.js';
import { User } from '../people/models.js';
import { audit, type AuditContext } from '../platform/audit.js';
import { withTransaction } from '../platform/db.js';
import { queueMail } from '../platform/mail/outbox.js';
import { ReadCache } from '../platform/read-cache.js';
import { sqlOf, toBool } from '../platform/sql.js';
import type { Actor } from '../platform/policy.js';
import { loadBundle, partnerFacts, accessFacts, type ProposalBundle } from './bundle.js';
import { Proposal, ProposalSubmission } from './models.js';
import { relationsTo } from './policy.js';
import { checkEligibility, type RuleResult } from './rules.js';
import type { CallScope } from './screening-query.js';
import { parseRules, screeningProblem, screeningReasonRequired, type ScreeningDecision } from './screening-rules.js';
import type { CommandResult } from './endorsement-service.js';

/**
 * Every call that can hold submitted proposals (not drafts), newest first, with its rules parsed. The screening
 * list asks on every view: outside a transaction the answer is kept for a second (read-cache.ts; this process's
 * own changes to calls drop it at once).
 */
export function callScopes(sequelize: Sequelize, transaction?: Transaction): Promise<CallScope[]> {
  return transaction ? readCallScopes(sequelize, transaction) : scopeCache.get(sequelize);
}
const scopeCache = new ReadCache<Sequelize, CallScope[]>(1000, (s) => readCallScopes(s));
onCallsChanged(() => scopeCache.clear());

async function readCallScopes(sequelize: Sequelize, transaction?: Transaction): Promise<CallScope[]> {
  const calls = await sqlOf(sequelize).all<{ id: number; title_zh: string; title_en: string | null; status: CallStatus; endorsement_required: number | boolean; rules_json: string | null }>(
    "SELECT id, title_zh, title_en, status, endorsement_required, rules_json FROM calls WHERE status <> 'draft' ORDER BY id DESC",
    [],
    transaction,
  );
  return calls.map((c) => ({ id: c.id, titleZh: c.title_zh, titleEn: c.title_en, status: c.status, endorsementRequired: toBool(c.endorsement_required), rules: parseRules(c.rules_json) }));
}

export interface ScreeningReport {
  bundle: ProposalBundle;
  call: Call;
  rules: ReturnType<typeof parseRules>;
  results: RuleResult[];
  otherActive: number;
}

/** The automatic eligibility report: `checkEligibility` with the call's rules and the proposal's facts. */
export async function screeningReport(proposalId: number, transaction?: Transaction): Promise<ScreeningReport | null> {
  const bundle = await loadBundle(proposalId, transaction);
  if (!bundle) return null;
  const call = (await Call.findByPk(bundle.proposal.callId, { transaction }))!;
  const rules = parseRules(call.rulesJson);
  const otherActive = bundle.otherActiveOfPi;
  const results = checkEligibility(rules, { durationMonths: bundle.proposal.durationMonths, partners: partnerFacts(bundle), otherActiveOfPi: otherActive });
  return { bundle, call, rules, results, otherActive };
}

/** The latest submission (receipt and snapshot hash) of a proposal. */
export async function latestSubmission(proposalId: number) {
  return ProposalSubmission.findOne({ where: { proposalId }, attributes: ['receiptNo', 'snapshotSha256', 'createdAt'], order: [['id', 'DESC']], raw: true });
}

/**
 * Province codes in display order (the province filter). Reference data written only by the seed, so each
 * connection reads it once.
 */
const provinceLists = new WeakMap<Sequelize, Promise<string[]>>();
export function provinceCodes(sequelize: Sequelize): Promise<string[]> {
  let list = provinceLists.get(sequelize);
  if (!list) {
    list = sequelize.query<{ code: string }>('SELECT code FROM provinces ORDER BY sort_order', { type: QueryTypes.SELECT }).then((rows) => rows.map((p) => p.code));
    list.catch(() => provinceLists.delete(sequelize));
    provinceLists.set(sequelize, list);
  }
  return list;
}

export async function userName(id: number | null): Promise<string> {
  if (!id) return '';
  const u = await User.findByPk(id, { attributes: ['name'], raw: true });
  return u?.name ?? '';
}

export type ScreeningResult = CommandResult | { ok: false; status: 400; error: string; field: 'reason' };

/** Record an officer's eligible / ineligible decision (or change it before the call goes to review). */
export async function decideScreening(
  sequelize: Sequelize,
  ctx: AuditContext,
  actor: Actor,
  proposalId: number,
  decision: ScreeningDecision,
  reason: string,
  links: { baseUrl: string },
): Promise<ScreeningResult> {
  return withTransaction(sequelize, async (t) => {
    const locked = await Proposal.findByPk(proposalId, { attributes: ['id'], transaction: t, lock: t.LOCK.UPDATE });
    const report = locked ? await screeningReport(proposalId, t) : null;
    if (!report) return { ok: false, status: 404, error: 'screening:errors.notFound' };
    const { bundle, call, results } = report;
    const p = bundle.proposal;
    if (!relationsTo(actor, accessFacts(bundle)).includes('officer')) return { ok: false, status: 404, error: 'screening:errors.notFound' };
    const problem = screeningProblem({ status: p.status, endorsementRequired: bundle.endorsementRequired, callStatus: call.status }, decision);
    if (problem) return { ok: false, status: 409, error: problem };
    const failed = results.filter((r) => !r.ok).length;
    if (!reason && screeningReasonRequired(p.status, decision, failed)) {
      const key = decision === 'ineligible' ? 'screening:decide.errors.reasonIneligible' : p.status === 'endorsed' || p.status === 'submitted' ? 'screening:decide.errors.reasonOverride' : 'screening:decide.errors.reasonChange';
      return { ok: false, status: 400, error: key, field: 'reason' };
    }
    const now = new Date();
    const before = { status: p.status, screenedBy: p.screenedBy, screenedAt: p.screenedAt, screeningReason: p.screeningReason };
    const after = { status: decision, screenedBy: actor.id, screenedAt: now, screeningReason: reason || null };
    const [affected] = await Proposal.update(after, { where: { id: proposalId, status: p.status }, transaction: t });
    if (affected !== 1) return { ok: false, status: 409, error: 'screening:decide.errors.concurrent' };
    await audit(t, ctx, { action: before.status === 'eligible' || before.status === 'ineligible' ? 'proposal.screen_change' : 'proposal.screen', entityType: 'proposal', entityId: proposalId, before, after: { ...after, failedRules: results.filter((r) => !r.ok).map((r) => r.rule) } });
    const pi = await User.findByPk(p.piUserId, { attributes: ['email', 'name', 'lang'], raw: true, transaction: t });
    if (pi) {
      await queueMail(t, {
        to: { address: pi.email, name: pi.name },
        template: 'proposal-screened',
        lang: pi.lang,
        data: { title: p.title, receiptNo: p.receiptNo ?? '', decision, reason, url: `${links.baseUrl}/proposals/${proposalId}`, callTitleZh: call.titleZh, callTitleEn: call.titleEn },
      });
    }
    return { ok: true };
  });
}

/** Who exported which screening list, with which filters and how many rows (exports carry applicants' data). */
export async function auditScreeningExport(sequelize: Sequelize, ctx: AuditContext, e: { format: string; filters: Record<string, string>; rows: number }): Promise<void> {
  await withTransaction(sequelize, (t) => audit(t, ctx, { action: 'screening.export', entityType: 'screening', entityId: null, after: e }));
}
