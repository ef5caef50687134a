/**
 * Commands on the lists inside a draft call (topics, review criteria, budget categories, attachment kinds)
 * and on the per-province pledges. Each locks the call row, re-checks the policy, and audits before/after.
 */
import { Op, type Sequelize, type Transaction } from 'sequelize';
import { audit, type AuditContext } from '../platform/audit.js';
import { withTransaction } from '../platform/db.js';
import { Forbidden, type Actor } from '../platform/policy.js';

import { Province } from '../people/models.js';
import { Call, CallCriterion, CallPledge, CallTopic } from './models.js';
import { canChangePledge, canEditSettings } from './policy.js';
import type { AttachmentKind, BudgetCategory } from './rules.js';
import { readAttachmentKinds, readBudgetCategories, type CriterionInput, type TopicInput } from './schema.js';
import { enforce, lockCall, type Outcome } from './service.js';

const done: Outcome = { ok: true, value: undefined };
const gone = () => new Forbidden(404, 'common:errors.notFound.reason');

/** Lock a draft call for editing its lists (403 once published). */
async function draft(t: Transaction, actor: Actor, callId: number): Promise<Call> {
  const call = await lockCall(t, callId);
  enforce(canEditSettings(actor, call.status));
  return call;
}

// ---- topics (指南方向) ----------------------------------------------------------------------------

export async function addTopic(sequelize: Sequelize, ctx: AuditContext, actor: Actor, callId: number, v: TopicInput): Promise<Outcome> {
  return withTransaction(sequelize, async (t) => {
    await draft(t, actor, callId);
    if (await CallTopic.findOne({ where: { callId, code: v.code }, transaction: t })) return { ok: false, errors: { topicCode: 'calls:errors.codeTaken' } };
    const last = (await CallTopic.max('sortOrder', { where: { callId }, transaction: t })) as number | null;
    const topic = await CallTopic.create({ callId, ...v, sortOrder: (last ?? 0) + 1 }, { transaction: t });
    await audit(t, ctx, { action: 'call.topic.create', entityType: 'call', entityId: callId, after: { topicId: topic.id, ...v } });
    return done;
  });
}

export async function updateTopic(sequelize: Sequelize, ctx: AuditContext, actor: Actor, callId: number, topicId: number, v: TopicInput): Promise<Outcome> {
  return withTransaction(sequelize, async (t) => {
    await draft(t, actor, callId);
    const topic = await CallTopic.findOne({ where: { id: topicId, callId }, transaction: t });
    if (!topic) throw gone();
    const clash = await CallTopic.findOne({ where: { callId, code: v.code }, transaction: t });
    if (clash && clash.id !== topic.id) return { ok: false, errors: { topicCode: 'calls:errors.codeTaken' } };
    const before = { code: topic.code, titleZh: topic.titleZh, titleEn: topic.titleEn, description: topic.description };
    await topic.update(v, { transaction: t });
    await audit(t, ctx, { action: 'call.topic.update', entityType: 'call', entityId: callId, before: { topicId, ...before }, after: { topicId, ...v } });
    return done;
  });
}

export async function removeTopic(sequelize: Sequelize, ctx: AuditContext, actor: Actor, callId: number, topicId: number): Promise<void> {
  await withTransaction(sequelize, async (t) => {
    await draft(t, actor, callId);
    const topic = await CallTopic.findOne({ where: { id: topicId, callId }, transaction: t });
    if (!topic) throw gone();
    const before = { topicId, code: topic.code, titleZh: topic.titleZh, titleEn: topic.titleEn, description: topic.description };
    await topic.destroy({ transaction: t });
    await audit(t, ctx, { action: 'call.topic.delete', entityType: 'call', entityId: callId, before });
  });
}

// ---- review criteria ------------------------------------------------------------------------------

export async function addCriterion(sequelize: Sequelize, ctx: AuditContext, actor: Actor, callId: number, v: CriterionInput): Promise<Outcome> {
  return withTransaction(sequelize, async (t) => {
    await draft(t, actor, callId);
    const existing = await CallCriterion.findAll({ where: { callId }, attributes: ['weight', 'sortOrder'], raw: true, transaction: t });
    const sum = existing.reduce((a, c) => a + c.weight, 0);
    if (sum + v.weight > 100) return { ok: false, errors: { criterionWeight: 'calls:errors.weightsOver100' } };
    const sortOrder = existing.reduce((a, c) => Math.max(a, c.sortOrder), 0) + 1;
    const c = await CallCriterion.create({ callId, ...v, sortOrder }, { transaction: t });
    await audit(t, ctx, { action: 'call.criterion.create', entityType: 'call', entityId: callId, after: { criterionId: c.id, ...v } });
    return done;
  });
}

export async function removeCriterion(sequelize: Sequelize, ctx: AuditContext, actor: Actor, callId: number, criterionId: number): Promise<void> {
  await withTransaction(sequelize, async (t) => {
    await draft(t, actor, callId);
    const c = await CallCriterion.findOne({ where: { id: criterionId, callId }, transaction: t });
    if (!c) throw gone();
    const before = { criterionId, nameZh: c.nameZh, nameEn: c.nameEn, weight: c.weight, scaleMax: c.scaleMax };
    await c.destroy({ transaction: t });
    await audit(t, ctx, { action: 'call.criterion.delete', entityType: 'call', entityId: callId, before });
  });
}

// ---- budget categories and attachment kinds (JSON lists on the call) ------------------------------

type ListName = 'budgetCategories' | 'attachmentKinds';

async function editList<T extends { code: string }>(
  sequelize: Sequelize,
  ctx: AuditContext,
  actor: Actor,
  callId: number,
  list: ListName,
  change: (items: T[]) => T[] | { error: string },
): Promise<Outcome> {
  return withTransaction(sequelize, async (t) => {
    const call = await draft(t, actor, callId);
    const column = list === 'budgetCategories' ? 'budgetCategoriesJson' : 'attachmentKindsJson';
    const items = (list === 'budgetCategories' ? readBudgetCategories(call.budgetCategoriesJson) : readAttachmentKinds(call.attachmentKindsJson)) as unknown as T[];
    const next = change(items);
    if (!Array.isArray(next)) return { ok: false, errors: { [list === 'budgetCategories' ? 'categoryCode' : 'kindCode']: next.error } };
    await call.update({ [column]: JSON.stringify(next) }, { transaction: t });
    await audit(t, ctx, { action: `call.${list === 'budgetCategories' ? 'budget_categories' : 'attachment_kinds'}.update`, entityType: 'call', entityId: callId, before: items, after: next });
    return done;
  });
}

const add =
  <T extends { code: string }>(item: T) =>
  (items: T[]) =>
    items.some((x) => x.code === item.code) ? { error: 'calls:errors.codeTaken' } : items.length >= 50 ? { error: 'calls:errors.tooMany' } : [...items, item];

const remove =
  <T extends { code: string }>(code: string) =>
  (items: T[]) =>
    !items.some((x) => x.code === code) ? { error: 'calls:errors.unknownCode' } : items.length === 1 ? { error: 'calls:errors.keepOne' } : items.filter((x) => x.code !== code);

export const addCategory = (s: Sequelize, ctx: AuditContext, actor: Actor, callId: number, c: BudgetCategory) => editList(s, ctx, actor, callId, 'budgetCategories', add(c));
export const removeCategory = (s: Sequelize, ctx: AuditContext, actor: Actor, callId: number, code: string) => editList<BudgetCategory>(s, ctx, actor, callId, 'budgetCategories', remove(code));
export const addKind = (s: Sequelize, ctx: AuditContext, actor: Actor, callId: number, k: AttachmentKind) => editList(s, ctx, actor, callId, 'attachmentKinds', add(k));
export const removeKind = (s: Sequelize, ctx: AuditContext, actor: Actor, callId: number, code: string) => editList<AttachmentKind>(s, ctx, actor, callId, 'attachmentKinds', remove(code));

// ---- pledges ----------------------------------------------------------------------------------------

/**
 * Set a province's pledge. The province comes from the URL and is re-checked against the actor's officer
 * roles here; the amount may not drop below what the funding stage has already committed (guarded update).
 */
export async function setPledge(sequelize: Sequelize, ctx: AuditContext, actor: Actor, callId: number, provinceCode: string, amountFen: number): Promise<Outcome> {
  if (!(await Province.findByPk(provinceCode))) throw gone();
  return withTransaction(sequelize, async (t) => {
    const call = await lockCall(t, callId);
    enforce(canChangePledge(actor, provinceCode, call.status));
    const pledge = await CallPledge.findOne({ where: { callId, provinceCode }, transaction: t, lock: t.LOCK.UPDATE });
    const before = pledge ? { provinceCode, amountFen: pledge.amountFen, committedFen: pledge.committedFen } : null;
    if (!pledge) {
      await CallPledge.create({ callId, provinceCode, amountFen, enteredBy: actor.id }, { transaction: t });
    } else {
      // One guarded statement: never below what is already committed, even against a concurrent commit.
      const [affected] = await CallPledge.update(
        { amountFen, enteredBy: actor.id },
        { where: { id: pledge.id, committedFen: { [Op.lte]: amountFen } }, transaction: t },
      );
      // MySQL counts changed rows only (Sequelize turns FOUND_ROWS off): 0 may also mean "same amount".
      if (affected !== 1 && (await CallPledge.findByPk(pledge.id, { transaction: t }))!.committedFen > amountFen)
        return { ok: false, errors: { amountYuan: 'calls:errors.belowCommitted' } };
    }
    await audit(t, ctx, { action: 'call.pledge.set', entityType: 'call', entityId: callId, before, after: { provinceCode, amountFen } });
    return done;
  });
}
