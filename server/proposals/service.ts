/**
 * Commands of the proposal editor: start a draft, save each step, manage the consortium, budget lines, reviewer
 * exclusions and partner sign-off. Each command runs in one transaction with an audit event and re-checks,
 * inside the transaction and against server time, that the proposal is still a draft of an open call.
 * Submission and withdrawal live in submission.ts.
 */
import { sanctionProblems } from '../integrity/checks.js';
import { Op, type Sequelize, type Transaction } from 'sequelize';
import { Call, CallTopic, onCallsChanged } from '../calls/models.js';
import { DEFAULT_ATTACHMENT_KINDS, DEFAULT_BUDGET_CATEGORIES, DEFAULT_RULES, submissionWindow, type AttachmentKind, type BudgetCategory, type CallStatus, type EligibilityRules, type WindowState } from '../calls/rules.js';
import { Institution, User } from '../people/models.js';
import { normaliseEmail } from '../people/rules.js';
import { audit, type AuditContext } from '../platform/audit.js';
import { withTransaction } from '../platform/db.js';
import type { FieldErrors } from '../platform/forms.js';
import { queueMail } from '../platform/mail/outbox.js';
import { Forbidden, type Actor } from '../platform/policy.js';
import { ReadCache } from '../platform/read-cache.js';
import { partnerFacts, type ProposalBundle } from './bundle.js';
import { refreshProposalFacts } from './facts.js';
import { BudgetLine, Proposal, ProposalPartner, ReviewerExclusion } from './models.js';
import { budgetTotals, checklist, type BudgetTotals, type ChecklistItem } from './rules.js';
import type { BasicInput, BudgetForm, PartnerInput } from './schema.js';

/** Server time. Tests set `clock.now` to put a request exactly around a deadline; nothing else changes it. */
export const clock = { now: (): Date => new Date() };

/** A hard cap on consortium size whatever the call says (the call's maxPartners is a checklist rule). */
export const MAX_PARTNER_ROWS = 30;

export interface CallSettings {
  id: number;
  titleZh: string;
  titleEn: string | null;
  status: CallStatus;
  opensAt: Date | null;
  deadlineAt: Date | null;
  endorsementRequired: boolean;
  rules: EligibilityRules;
  categories: BudgetCategory[];
  kinds: AttachmentKind[];
  topics: Array<{ id: number; code: string; titleZh: string; titleEn: string | null }>;
}

function parseJson<T>(raw: string | null | undefined, fallback: T): T {
  try {
    const v = raw ? (JSON.parse(raw) as T) : fallback;
    return v ?? fallback;
  } catch {
    return fallback;
  }
}

/**
 * A call's settings (window, rules, budget categories, attachment kinds, topics). Every editor page and every
 * submit asks, so outside a transaction the answer is kept for a second (read-cache.ts: this process's own
 * changes to the call drop it at once) and shared, frozen, between requests. Inside a transaction it is read.
 */
export function loadCallSettings(callId: number, transaction?: Transaction): Promise<CallSettings | null> {
  return transaction ? readCallSettings(callId, transaction) : settingsCache.get(callId);
}
const settingsCache = new ReadCache<number, CallSettings | null>(1000, async (id) => deepFreeze(await readCallSettings(id)));
onCallsChanged(() => settingsCache.clear());

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

async function readCallSettings(callId: number, transaction?: Transaction): Promise<CallSettings | null> {
  const [call, topics] = await Promise.all([
    Call.findByPk(callId, { transaction }),
    CallTopic.findAll({ where: { callId }, order: [['sortOrder', 'ASC'], ['id', 'ASC']], raw: true, transaction }),
  ]);
  if (!call) return null;
  const categories = parseJson<BudgetCategory[]>(call.budgetCategoriesJson, DEFAULT_BUDGET_CATEGORIES);
  const kinds = parseJson<AttachmentKind[]>(call.attachmentKindsJson, DEFAULT_ATTACHMENT_KINDS);
  return {
    id: call.id,
    titleZh: call.titleZh,
    titleEn: call.titleEn,
    status: call.status,
    opensAt: call.opensAt,
    deadlineAt: call.deadlineAt,
    endorsementRequired: !!call.endorsementRequired,
    rules: { ...DEFAULT_RULES, ...parseJson<Partial<EligibilityRules>>(call.rulesJson, {}) },
    categories: Array.isArray(categories) && categories.length ? categories : DEFAULT_BUDGET_CATEGORIES,
    kinds: Array.isArray(kinds) && kinds.length ? kinds : DEFAULT_ATTACHMENT_KINDS,
    topics: topics.map((t) => ({ id: t.id, code: t.code, titleZh: t.titleZh, titleEn: t.titleEn })),
  };
}

export function windowOf(call: Pick<CallSettings, 'status' | 'opensAt' | 'deadlineAt'>, now = clock.now()): WindowState {
  return submissionWindow(call, now);
}

/** Number of budget years for a duration (at least one; the grid also shows any year that already has lines). */
export function budgetYears(durationMonths: number | null, lines: Array<{ year: number }> = []): number {
  const fromDuration = Math.max(1, Math.ceil((durationMonths ?? 12) / 12));
  return Math.min(10, Math.max(fromDuration, ...lines.map((l) => l.year)));
}

export interface Evaluation {
  items: ChecklistItem[];
  failures: ChecklistItem[];
  totals: BudgetTotals;
  otherActiveOfPi: number;
}

/** The live checklist of a proposal against its call's rules, with the budget totals. */
export async function evaluate(b: ProposalBundle, call: CallSettings, transaction?: Transaction, now: Date = clock.now()): Promise<Evaluation> {
  const p = b.proposal;
  const otherActiveOfPi = b.otherActiveOfPi;
  const totals = budgetTotals(b.lines, new Map(b.partners.map((x) => [x.id, x.provinceCode])));
  const missingAttachmentKinds = call.kinds.filter((k) => k.required && !b.attachments.some((a) => a.kind === k.code)).map((k) => k.code);
  const items = checklist(
    { title: p.title ?? '', abstract: p.abstract, keywords: p.keywords, topicId: p.topicId, durationMonths: p.durationMonths, leadInstitutionId: p.leadInstitutionId },
    { durationMonths: p.durationMonths, partners: partnerFacts(b), otherActiveOfPi },
    call.rules,
    {
      missingAttachmentKinds,
      budgetTotal: totals.total,
      exclusions: b.exclusions.length,
      exclusionsWithoutReason: b.exclusions.filter((e) => !e.reason.trim()).length,
    },
  );
  // Integrity sanctions in force now, on the PI, a partner's contact or any consortium institution (科研失信).
  items.push(...(await sanctionProblems(b, now, transaction)));
  return { items, failures: items.filter((i) => !i.ok), totals, otherActiveOfPi };
}

/**
 * Inside a transaction: the proposal (row locked on MySQL/MariaDB), refused unless it is still a draft of a
 * call that is open at `now`, and its version moved on. Every editing command starts here.
 */
export async function lockDraft(t: Transaction, proposalId: number, now: Date): Promise<{ proposal: Proposal; call: CallSettings }> {
  const proposal = await Proposal.findByPk(proposalId, { transaction: t, lock: t.LOCK.UPDATE });
  if (!proposal) throw new Forbidden(404, 'proposals:errors.notFound');
  if (proposal.status !== 'draft') throw new Forbidden(403, 'proposals:policy.notDraft');
  const call = await loadCallSettings(proposal.callId, t);
  if (!call || windowOf(call, now) !== 'open') throw new Forbidden(403, 'proposals:window.closed');
  // Every change to a draft moves its version on: a submit checked against an older version is redone.
  await Proposal.update({ version: proposal.sequelize.literal('version + 1') as unknown as number }, { where: { id: proposalId }, transaction: t });
  return { proposal, call };
}

export interface Deps {
  sequelize: Sequelize;
  baseUrl: string;
}

/** A signed-in user starts a draft for an open call: they are the PI; their institution, if any, leads. */
export async function startDraft(d: Deps, ctx: AuditContext, actor: Actor, callId: number, now = clock.now()): Promise<number> {
  return withTransaction(d.sequelize, async (t) => {
    const call = await loadCallSettings(callId, t);
    if (!call || call.status === 'draft') throw new Forbidden(404, 'proposals:errors.callNotFound');
    if (windowOf(call, now) !== 'open') throw new Forbidden(403, 'proposals:window.closed');
    const user = await User.findByPk(actor.id, { transaction: t });
    const inst = user?.institutionId ? await Institution.findByPk(user.institutionId, { transaction: t }) : null;
    const proposal = await Proposal.create(
      { callId, topicId: null, piUserId: actor.id, leadInstitutionId: inst?.id ?? null, titleEn: null, abstract: null, keywords: null, disciplineCode: null, durationMonths: null },
      { transaction: t },
    );
    if (inst) {
      await ProposalPartner.create({ proposalId: proposal.id, institutionId: inst.id, provinceCode: inst.provinceCode, isLead: true, role: null, contactUserId: actor.id, sortOrder: 0 }, { transaction: t });
      await refreshProposalFacts(d.sequelize, [proposal.id], t);
    }
    await audit(t, ctx, { action: 'proposal.create', entityType: 'proposal', entityId: proposal.id, after: { callId, leadInstitutionId: inst?.id ?? null } });
    return proposal.id;
  });
}

export async function saveBasic(d: Deps, ctx: AuditContext, proposalId: number, input: BasicInput, now = clock.now()): Promise<FieldErrors | null> {
  return withTransaction(d.sequelize, async (t): Promise<FieldErrors | null> => {
    const { proposal, call } = await lockDraft(t, proposalId, now);
    if (input.topicId !== null && !call.topics.some((x) => x.id === input.topicId)) return { topicId: 'proposals:basic.errors.topic' };
    const fields = ['title', 'titleEn', 'topicId', 'abstract', 'keywords', 'disciplineCode', 'durationMonths'] as const;
    const before = Object.fromEntries(fields.map((f) => [f, proposal[f]]));
    await proposal.update({ ...input }, { transaction: t });
    await audit(t, ctx, { action: 'proposal.save_basic', entityType: 'proposal', entityId: proposalId, before, after: input });
    return null;
  });
}

/** Set the lead institution when the draft has none (e.g. the PI had no institution when starting). */
export async function setLead(d: Deps, ctx: AuditContext, actor: Actor, proposalId: number, institutionId: number, now = clock.now()): Promise<FieldErrors | null> {
  return withTransaction(d.sequelize, async (t): Promise<FieldErrors | null> => {
    const { proposal } = await lockDraft(t, proposalId, now);
    if (proposal.leadInstitutionId !== null) return { leadInstitutionId: 'proposals:consortium.errors.leadExists' };
    const inst = await Institution.findByPk(institutionId, { transaction: t });
    if (!inst) return { leadInstitutionId: 'proposals:consortium.errors.institution' };
    if (await ProposalPartner.findOne({ where: { proposalId, institutionId }, transaction: t })) return { leadInstitutionId: 'proposals:consortium.errors.duplicate' };
    const partner = await ProposalPartner.create(
      { proposalId, institutionId, provinceCode: inst.provinceCode, isLead: true, role: null, contactUserId: actor.id, sortOrder: 0 },
      { transaction: t },
    );
    await proposal.update({ leadInstitutionId: institutionId }, { transaction: t });
    await refreshProposalFacts(d.sequelize, [proposalId], t);
    await audit(t, ctx, { action: 'proposal.set_lead', entityType: 'proposal', entityId: proposalId, after: { partnerId: partner.id, institutionId } });
    return null;
  });
}

/**
 * Add a partner chosen from the registry with its contact person (an existing user, found by e-mail). The
 * province always comes from the institution. The contact is told by mail (outbox, same transaction).
 */
export async function addPartner(d: Deps, ctx: AuditContext, actor: Actor, proposalId: number, input: PartnerInput, now = clock.now()): Promise<FieldErrors | null> {
  return withTransaction(d.sequelize, async (t): Promise<FieldErrors | null> => {
    const { proposal, call } = await lockDraft(t, proposalId, now);
    const inst = await Institution.findByPk(input.institutionId, { transaction: t });
    if (!inst) return { institutionId: 'proposals:consortium.errors.institution' };
    const existing = await ProposalPartner.findAll({ where: { proposalId }, transaction: t });
    if (existing.some((p) => p.institutionId === inst.id)) return { institutionId: 'proposals:consortium.errors.duplicate' };
    if (existing.length >= MAX_PARTNER_ROWS) return { institutionId: 'proposals:consortium.errors.tooMany' };
    const contact = await User.findOne({ where: { email: normaliseEmail(input.contactEmail) }, transaction: t });
    if (!contact || contact.disabledAt) return { contactEmail: 'proposals:consortium.errors.notRegistered' };
    if (contact.id === proposal.piUserId) return { contactEmail: 'proposals:consortium.errors.contactIsPi' };
    const sortOrder = existing.reduce((m, p) => Math.max(m, p.sortOrder), 0) + 1;
    const partner = await ProposalPartner.create(
      { proposalId, institutionId: inst.id, provinceCode: inst.provinceCode, isLead: false, role: input.role, contactUserId: contact.id, sortOrder },
      { transaction: t },
    );
    await refreshProposalFacts(d.sequelize, [proposalId], t);
    await audit(t, ctx, { action: 'proposal.add_partner', entityType: 'proposal', entityId: proposalId, after: { partnerId: partner.id, institutionId: inst.id, provinceCode: inst.provinceCode, contactUserId: contact.id, role: input.role } });
    await queueMail(t, {
      to: { address: contact.email, name: contact.name },
      template: 'partner-invited',
      lang: contact.lang,
      data: {
        piName: actor.name,
        proposalTitle: proposal.title || `#${proposal.id}`,
        callTitle: contact.lang === 'en' && call.titleEn ? call.titleEn : call.titleZh,
        institutionName: contact.lang === 'en' && inst.nameEn ? inst.nameEn : inst.nameZh,
        url: `${d.baseUrl}/proposals/${proposal.id}/partner/${partner.id}`,
      },
    });
    return null;
  });
}

export async function removePartner(d: Deps, ctx: AuditContext, proposalId: number, partnerId: number, now = clock.now()): Promise<void> {
  await withTransaction(d.sequelize, async (t) => {
    const { proposal } = await lockDraft(t, proposalId, now);
    const partner = await ProposalPartner.findOne({ where: { id: partnerId, proposalId }, transaction: t });
    if (!partner) throw new Forbidden(404, 'proposals:errors.partnerNotFound');
    const lines = await BudgetLine.findAll({ where: { partnerId }, raw: true, transaction: t });
    await BudgetLine.destroy({ where: { partnerId }, transaction: t });
    await partner.destroy({ transaction: t });
    if (partner.isLead) await proposal.update({ leadInstitutionId: null }, { transaction: t });
    await refreshProposalFacts(d.sequelize, [proposalId], t);
    await audit(t, ctx, { action: 'proposal.remove_partner', entityType: 'proposal', entityId: proposalId, before: { partner: partner.toJSON(), lines } });
  });
}

/**
 * Replace one partner's budget lines and self-funded amount. Any change resets that partner's confirmation
 * (in the same transaction, audited), whoever made it.
 */
export async function saveBudget(d: Deps, ctx: AuditContext, proposalId: number, partnerId: number, form: BudgetForm, now = clock.now()): Promise<{ changed: boolean; confirmationReset: boolean }> {
  return withTransaction(d.sequelize, async (t) => {
    const { call } = await lockDraft(t, proposalId, now);
    const partner = await ProposalPartner.findOne({ where: { id: partnerId, proposalId }, transaction: t });
    if (!partner) throw new Forbidden(404, 'proposals:errors.partnerNotFound');
    const codes = new Set(call.categories.map((c) => c.code));
    const wanted = new Map(form.lines.filter((l) => codes.has(l.category) && l.year >= 1 && l.amountFen > 0).map((l) => [`${l.year}|${l.category}`, l]));
    const current = await BudgetLine.findAll({ where: { partnerId }, transaction: t });
    const before = current.map((l) => ({ year: l.year, category: l.category, amountFen: l.amountFen }));
    let changed = partner.selfFundedFen !== form.selfFundedFen;
    for (const line of current) {
      const w = wanted.get(`${line.year}|${line.category}`);
      if (!w) {
        await line.destroy({ transaction: t });
        changed = true;
      } else {
        if (w.amountFen !== line.amountFen) {
          await line.update({ amountFen: w.amountFen }, { transaction: t });
          changed = true;
        }
        wanted.delete(`${line.year}|${line.category}`);
      }
    }
    for (const w of wanted.values()) {
      await BudgetLine.create({ proposalId, partnerId, year: w.year, category: w.category, amountFen: w.amountFen }, { transaction: t });
      changed = true;
    }
    if (!changed) return { changed: false, confirmationReset: false };
    const confirmationReset = partner.confirmedAt !== null;
    const selfBefore = partner.selfFundedFen;
    await partner.update({ selfFundedFen: form.selfFundedFen, confirmedAt: null, confirmedBy: null }, { transaction: t });
    await refreshProposalFacts(d.sequelize, [proposalId], t);
    await audit(t, ctx, {
      action: 'proposal.save_budget',
      entityType: 'proposal',
      entityId: proposalId,
      before: { partnerId, selfFundedFen: selfBefore, lines: before },
      after: { partnerId, selfFundedFen: form.selfFundedFen, lines: form.lines, confirmationReset },
    });
    return { changed: true, confirmationReset };
  });
}

/** The partner's contact confirms participation and the partner's budget as it stands. */
export async function confirmPartner(d: Deps, ctx: AuditContext, actor: Actor, proposalId: number, partnerId: number, now = clock.now()): Promise<void> {
  await withTransaction(d.sequelize, async (t) => {
    await lockDraft(t, proposalId, now);
    const partner = await ProposalPartner.findOne({ where: { id: partnerId, proposalId }, transaction: t });
    if (!partner) throw new Forbidden(404, 'proposals:errors.partnerNotFound');
    if (partner.contactUserId !== actor.id) throw new Forbidden(403, 'proposals:policy.notYourPartner');
    const lines = await BudgetLine.findAll({ where: { partnerId }, raw: true, transaction: t });
    await partner.update({ confirmedAt: now, confirmedBy: actor.id }, { transaction: t });
    await audit(t, ctx, {
      action: 'proposal.confirm_partner',
      entityType: 'proposal',
      entityId: proposalId,
      after: { partnerId, selfFundedFen: partner.selfFundedFen, requestedFen: lines.reduce((a, l) => a + Number(l.amountFen), 0) },
    });
  });
}

export async function saveExclusions(d: Deps, ctx: AuditContext, proposalId: number, rows: Array<{ expertName: string; expertInstitution: string | null; reason: string }>, now = clock.now()): Promise<void> {
  await withTransaction(d.sequelize, async (t) => {
    await lockDraft(t, proposalId, now);
    const before = await ReviewerExclusion.findAll({ where: { proposalId }, raw: true, transaction: t });
    await ReviewerExclusion.destroy({ where: { proposalId }, transaction: t });
    for (const r of rows.slice(0, 3)) await ReviewerExclusion.create({ proposalId, expertName: r.expertName, expertInstitution: r.expertInstitution, expertUserId: null, reason: r.reason }, { transaction: t });
    await audit(t, ctx, { action: 'proposal.save_exclusions', entityType: 'proposal', entityId: proposalId, before: before.map((e) => ({ expertName: e.expertName, reason: e.reason })), after: rows });
  });
}

/** My proposals: as PI and as a partner's contact person, newest first (plain rows for the list view). */
export async function myProposals(userId: number) {
  const asContact = await ProposalPartner.findAll({ where: { contactUserId: userId }, attributes: ['proposalId', 'id', 'isLead', 'confirmedAt'] });
  const ids = [...new Set(asContact.map((p) => p.proposalId))];
  const proposals = await Proposal.findAll({
    where: { [Op.or]: [{ piUserId: userId }, ...(ids.length ? [{ id: { [Op.in]: ids } }] : [])] },
    attributes: ['id', 'callId', 'title', 'status', 'receiptNo', 'submittedAt', 'piUserId', 'updatedAt'],
    order: [['updatedAt', 'DESC'], ['id', 'DESC']],
    limit: 500,
  });
  const calls = new Map(
    (await Call.findAll({ where: { id: { [Op.in]: [...new Set(proposals.map((p) => p.callId))] } }, attributes: ['id', 'titleZh', 'titleEn', 'deadlineAt', 'status', 'opensAt'] })).map((c) => [c.id, c]),
  );
  return proposals.map((p) => {
    const call = calls.get(p.callId);
    const partnerRow = asContact.find((x) => x.proposalId === p.id && !x.isLead && p.piUserId !== userId);
    return {
      id: p.id,
      title: p.title,
      status: p.status,
      receiptNo: p.receiptNo,
      submittedAt: p.submittedAt,
      updatedAt: p.updatedAt,
      isPi: p.piUserId === userId,
      partnerId: partnerRow?.id ?? null,
      partnerConfirmed: partnerRow ? partnerRow.confirmedAt !== null : null,
      call: call ? { id: call.id, titleZh: call.titleZh, titleEn: call.titleEn, deadlineAt: call.deadlineAt, open: windowOf(call) === 'open' } : null,
    };
  });
}
