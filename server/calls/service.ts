/**
 * Commands on calls: create and edit a draft, move it through its lifecycle (publishing queues one mail per
 * subscriber in the same transaction), extend a published deadline, subscribe to new-call notices. Every
 * command locks the call row, re-checks the policy against what it finds, and writes one audit event.
 * Pledges and the row lists (topics, criteria, categories, attachment kinds) are in rows-service.ts.
 */
import { Op, UniqueConstraintError, type Sequelize, type Transaction } from 'sequelize';
import { audit, type AuditContext } from '../platform/audit.js';
import { withTransaction } from '../platform/db.js';
import type { FieldErrors } from '../platform/forms.js';
import { DEFAULT_LANG, isLang } from '../platform/i18n.js';
import { InvalidAddress, queueMail } from '../platform/mail/outbox.js';
import { Forbidden, type Actor, type Decision } from '../platform/policy.js';
import { formatDateTime } from '../platform/views.js';
import { User } from '../people/models.js';
import { Call, CallCriterion, CallPledge, CallSubscription, CallTopic, Programme } from './models.js';
import { canEditSettings, canExtendDeadline, canMove } from './policy.js';
import { DEFAULT_ATTACHMENT_KINDS, DEFAULT_BUDGET_CATEGORIES, publishProblems, submissionWindow, type CallStatus } from './rules.js';
import type { CallSettings } from './schema.js';

export type Outcome<T = void> = { ok: true; value: T } | { ok: false; errors: FieldErrors };

/** Throw the refusal so the error page shows its reason (403/404). */
export function enforce(d: Decision): void {
  if (!d.ok) throw new Forbidden(d.status, d.reason);
}

/** The call, locked for the rest of the transaction; a missing call is a 404. */
export async function lockCall(t: Transaction, id: number): Promise<Call> {
  const call = await Call.findByPk(id, { transaction: t, lock: t.LOCK.UPDATE });
  if (!call) throw new Forbidden(404, 'common:errors.notFound.reason');
  return call;
}

/** What the audit trail keeps of a call (the JSON documents included). */
export function callSnapshot(c: Call) {
  return {
    programmeId: c.programmeId,
    titleZh: c.titleZh,
    titleEn: c.titleEn,
    bodyZh: c.bodyZh,
    bodyEn: c.bodyEn,
    status: c.status,
    opensAt: c.opensAt,
    deadlineAt: c.deadlineAt,
    endorsementRequired: !!c.endorsementRequired,
    endorsementDeadlineAt: c.endorsementDeadlineAt,
    reviewDueAt: c.reviewDueAt,
    decisionAt: c.decisionAt,
    fundingMode: c.fundingMode,
    balancingPotFen: c.balancingPotFen,
    reviewersPerProposal: c.reviewersPerProposal,
    noExpertFromLeadProvince: !!c.noExpertFromLeadProvince,
    rules: safeJson(c.rulesJson),
    budgetCategories: safeJson(c.budgetCategoriesJson),
    attachmentKinds: safeJson(c.attachmentKindsJson),
    publishedAt: c.publishedAt,
  };
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

/** Pick an existing programme, or find/create one by its Chinese name. */
async function resolveProgramme(t: Transaction, ctx: AuditContext, s: CallSettings): Promise<number | null> {
  if (s.programmeId) {
    const p = await Programme.findByPk(s.programmeId, { transaction: t });
    return p ? p.id : null;
  }
  const name = s.programmeName!;
  const existing = await Programme.findOne({ where: { nameZh: name }, transaction: t });
  if (existing) return existing.id;
  const p = await Programme.create({ nameZh: name, nameEn: s.programmeNameEn }, { transaction: t });
  await audit(t, ctx, { action: 'programme.create', entityType: 'programme', entityId: p.id, after: { nameZh: p.nameZh, nameEn: p.nameEn } });
  return p.id;
}

function settingsColumns(s: CallSettings, programmeId: number) {
  return {
    programmeId,
    titleZh: s.titleZh,
    titleEn: s.titleEn,
    bodyZh: s.bodyZh,
    bodyEn: s.bodyEn,
    opensAt: s.opensAt,
    deadlineAt: s.deadlineAt,
    endorsementRequired: s.endorsementRequired,
    endorsementDeadlineAt: s.endorsementDeadlineAt,
    reviewDueAt: s.reviewDueAt,
    decisionAt: s.decisionAt,
    fundingMode: s.fundingMode,
    balancingPotFen: s.balancingPotFen,
    reviewersPerProposal: s.reviewersPerProposal,
    noExpertFromLeadProvince: s.noExpertFromLeadProvince,
    rulesJson: JSON.stringify(s.rules),
  };
}

export async function createCall(sequelize: Sequelize, ctx: AuditContext, actor: Actor, s: CallSettings): Promise<Outcome<number>> {
  return withTransaction(sequelize, async (t) => {
    const programmeId = await resolveProgramme(t, ctx, s);
    if (!programmeId) return { ok: false, errors: { programmeId: 'calls:errors.programme' } };
    const call = await Call.create(
      {
        ...settingsColumns(s, programmeId),
        budgetCategoriesJson: JSON.stringify(DEFAULT_BUDGET_CATEGORIES),
        attachmentKindsJson: JSON.stringify(DEFAULT_ATTACHMENT_KINDS),
        createdBy: actor.id,
        publishedAt: null,
      },
      { transaction: t },
    );
    await audit(t, ctx, { action: 'call.create', entityType: 'call', entityId: call.id, after: callSnapshot(call) });
    return { ok: true, value: call.id };
  });
}

export async function updateCallSettings(sequelize: Sequelize, ctx: AuditContext, actor: Actor, id: number, s: CallSettings): Promise<Outcome> {
  return withTransaction(sequelize, async (t) => {
    const call = await lockCall(t, id);
    enforce(canEditSettings(actor, call.status));
    const programmeId = await resolveProgramme(t, ctx, s);
    if (!programmeId) return { ok: false, errors: { programmeId: 'calls:errors.programme' } };
    const before = callSnapshot(call);
    await call.update(settingsColumns(s, programmeId), { transaction: t });
    await audit(t, ctx, { action: 'call.update', entityType: 'call', entityId: id, before, after: callSnapshot(call) });
    return { ok: true, value: undefined };
  });
}

/** The publish checklist of a call as it is in the database now (inside `t` when given). */
export async function currentPublishProblems(id: number, call: { deadlineAt: Date | null; opensAt: Date | null }, now: Date, t?: Transaction): Promise<string[]> {
  const [topics, criteria, pledgedProvinces] = await Promise.all([
    CallTopic.count({ where: { callId: id }, transaction: t }),
    CallCriterion.findAll({ where: { callId: id }, attributes: ['weight'], raw: true, transaction: t }),
    CallPledge.count({ where: { callId: id, amountFen: { [Op.gt]: 0 } }, transaction: t }),
  ]);
  return publishProblems({ deadlineAt: call.deadlineAt, opensAt: call.opensAt, topics, criteriaWeights: criteria.map((c) => c.weight), pledgedProvinces, now });
}

export type TransitionOutcome = { ok: true; mails: number } | { ok: false; problems: string[] };

/**
 * Move a call to `to` if CALL_TRANSITIONS allows it. Publishing needs an empty publish checklist and queues
 * the new-call notice for every subscriber; closing needs the submission deadline to have passed.
 */
export async function transitionCall(sequelize: Sequelize, ctx: AuditContext, actor: Actor, id: number, to: CallStatus, baseUrl: string): Promise<TransitionOutcome> {
  return withTransaction(sequelize, async (t) => {
    const call = await lockCall(t, id);
    enforce(canMove(actor, call.status, to));
    const now = new Date();
    if (to === 'published') {
      const problems = await currentPublishProblems(id, call, now, t);
      if (problems.length) return { ok: false, problems };
    }
    if (to === 'closed' && submissionWindow(call, now) === 'open') return { ok: false, problems: ['stillOpen'] };
    const from = call.status;
    await call.update({ status: to, ...(to === 'published' ? { publishedAt: now } : {}) }, { transaction: t });
    const mails = to === 'published' ? await queueNewCallNotices(t, call, baseUrl) : 0;
    await audit(t, ctx, { action: `call.${to}`, entityType: 'call', entityId: id, before: { status: from }, after: { status: to, ...(to === 'published' ? { publishedAt: now, notices: mails } : {}) } });
    return { ok: true, mails };
  });
}

/** One mail per subscribed, active, verified user, in that user's language. Returns how many were queued. */
async function queueNewCallNotices(t: Transaction, call: Call, baseUrl: string): Promise<number> {
  const subs = await CallSubscription.findAll({ attributes: ['userId'], raw: true, transaction: t });
  if (!subs.length) return 0;
  const [users, programme] = await Promise.all([
    User.findAll({
      where: { id: { [Op.in]: subs.map((s) => s.userId) }, disabledAt: null, emailVerifiedAt: { [Op.ne]: null } },
      attributes: ['id', 'email', 'name', 'lang'],
      order: [['id', 'ASC']],
      raw: true,
      transaction: t,
    }),
    Programme.findByPk(call.programmeId, { raw: true, transaction: t }),
  ]);
  let n = 0;
  for (const u of users) {
    const lang = isLang(u.lang) ? u.lang : DEFAULT_LANG;
    const en = lang === 'en';
    try {
      await queueMail(t, {
        to: { address: u.email, name: u.name },
        template: 'call-published',
        lang,
        data: {
          title: en && call.titleEn ? call.titleEn : call.titleZh,
          programme: programme ? (en && programme.nameEn ? programme.nameEn : programme.nameZh) : '',
          opensAt: call.opensAt ? formatDateTime(call.opensAt, lang) : '',
          deadline: formatDateTime(call.deadlineAt, lang),
          url: `${baseUrl.replace(/\/$/, '')}/calls/${call.id}`,
          listUrl: `${baseUrl.replace(/\/$/, '')}/calls`,
        },
      });
      n++;
    } catch (e) {
      if (!(e instanceof InvalidAddress)) throw e; // a stored address that no longer passes the check is skipped
    }
  }
  return n;
}

/**
 * Give applicants more time on a published call. The new deadline must be later than the current one and in
 * the future; when the call asks for endorsement, its endorsement deadline may move too but never before the
 * submission deadline. Review and decision dates are not moved: the deadline cannot pass them.
 */
export async function extendDeadline(
  sequelize: Sequelize,
  ctx: AuditContext,
  actor: Actor,
  id: number,
  input: { newDeadlineAt: Date | null; newEndorsementDeadlineAt: Date | null },
): Promise<Outcome> {
  return withTransaction(sequelize, async (t): Promise<Outcome> => {
    const call = await lockCall(t, id);
    enforce(canExtendDeadline(actor, call.status));
    const now = new Date();
    const deadline = input.newDeadlineAt!;
    if (call.deadlineAt && deadline.getTime() <= call.deadlineAt.getTime()) return { ok: false, errors: { newDeadlineAt: 'calls:errors.notLater' } };
    if (deadline.getTime() <= now.getTime()) return { ok: false, errors: { newDeadlineAt: 'calls:errors.inPast' } };
    const endorsement = call.endorsementRequired ? (input.newEndorsementDeadlineAt ?? call.endorsementDeadlineAt) : null;
    if (endorsement && endorsement.getTime() < deadline.getTime()) return { ok: false, errors: { newEndorsementDeadlineAt: 'calls:errors.endorsementDeadlineAtOrder' } };
    if (call.endorsementRequired && call.endorsementDeadlineAt && endorsement && endorsement.getTime() < call.endorsementDeadlineAt.getTime())
      return { ok: false, errors: { newEndorsementDeadlineAt: 'calls:errors.notLater' } };
    const after = endorsement ?? deadline;
    if (call.reviewDueAt && call.reviewDueAt.getTime() < after.getTime()) return { ok: false, errors: { newDeadlineAt: 'calls:errors.pastReviewDue' } };
    const before = { deadlineAt: call.deadlineAt, endorsementDeadlineAt: call.endorsementDeadlineAt };
    await call.update({ deadlineAt: deadline, endorsementDeadlineAt: call.endorsementRequired ? endorsement : call.endorsementDeadlineAt }, { transaction: t });
    await audit(t, ctx, { action: 'call.extend_deadline', entityType: 'call', entityId: id, before, after: { deadlineAt: call.deadlineAt, endorsementDeadlineAt: call.endorsementDeadlineAt } });
    return { ok: true, value: undefined };
  });
}

/** Subscribe to or unsubscribe from new-call notices (idempotent). */
export async function setSubscription(sequelize: Sequelize, ctx: AuditContext, userId: number, on: boolean): Promise<void> {
  try {
    await subscriptionCommand(sequelize, ctx, userId, on);
  } catch (e) {
    if (!(e instanceof UniqueConstraintError)) throw e; // a parallel request subscribed first: the wish is met
  }
}

async function subscriptionCommand(sequelize: Sequelize, ctx: AuditContext, userId: number, on: boolean): Promise<void> {
  await withTransaction(sequelize, async (t) => {
    const existing = await CallSubscription.findOne({ where: { userId }, transaction: t, lock: t.LOCK.UPDATE });
    if (on && !existing) {
      const s = await CallSubscription.create({ userId }, { transaction: t });
      await audit(t, ctx, { action: 'call_subscription.create', entityType: 'call_subscription', entityId: s.id, after: { userId } });
    } else if (!on && existing) {
      await existing.destroy({ transaction: t });
      await audit(t, ctx, { action: 'call_subscription.delete', entityType: 'call_subscription', entityId: existing.id, before: { userId } });
    }
  });
}

export async function isSubscribed(userId: number): Promise<boolean> {
  return (await CallSubscription.count({ where: { userId } })) > 0;
}
