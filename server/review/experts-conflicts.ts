/**
 * Conflicts (回避), the loading and the commands: facts about proposals and experts read in a few queries and
 * handed to the pure conflicts.ts; experts declaring a conflict; officers adding a conflict, lifting one (never a
 * sanction) or withdrawing their decision — each in one transaction with an audit event.
 * Who may call the commands is decided by the review pages (later step); the commands re-check what they can.
 */
import { Op, QueryTypes, UniqueConstraintError, type Sequelize, type Transaction } from 'sequelize';
import { audit, type AuditContext } from '../platform/audit.js';
import { withTransaction } from '../platform/db.js';
import { Institution, User } from '../people/models.js';
import { Proposal, ProposalPartner, ReviewerExclusion } from '../proposals/models.js';
import type { ProposalBundle } from '../proposals/bundle.js';
import { activeSanctionsFor } from '../integrity/checks.js';
import { ConflictOverride, DeclaredConflict } from './models.js';
import { conflictMatrix, isLiftable, type Conflict, type ConflictCause, type ConflictDecisions, type ExpertConflictFacts, type ProposalConflictFacts } from './conflicts.js';

/** The call option "no expert from the lead's province", per call id. */
async function leadProvinceRule(sequelize: Sequelize, callIds: number[], transaction?: Transaction): Promise<Map<number, boolean>> {
  if (!callIds.length) return new Map();
  const rows = await sequelize.query<{ id: number; flag: unknown }>('SELECT id, no_expert_from_lead_province AS flag FROM calls WHERE id IN (?)', {
    replacements: [callIds],
    type: QueryTypes.SELECT,
    transaction,
  });
  return new Map(rows.map((r) => [Number(r.id), r.flag === true || Number(r.flag) === 1]));
}

/** Turn the call option on or off (the call editor's checkbox calls this), audited. */
export async function setNoExpertFromLeadProvince(sequelize: Sequelize, ctx: AuditContext, callId: number, value: boolean): Promise<void> {
  await withTransaction(sequelize, async (t) => {
    const before = (await leadProvinceRule(sequelize, [callId], t)).get(callId);
    if (before === undefined || before === value) return;
    await sequelize.query('UPDATE calls SET no_expert_from_lead_province = ? WHERE id = ?', { replacements: [value, callId], transaction: t });
    await audit(t, ctx, { action: 'call.set_conflict_rule', entityType: 'call', entityId: callId, before: { noExpertFromLeadProvince: before }, after: { noExpertFromLeadProvince: value } });
  });
}

/** Conflict facts of a loaded proposal bundle. */
export async function proposalFactsOf(sequelize: Sequelize, b: ProposalBundle, transaction?: Transaction): Promise<ProposalConflictFacts> {
  const rule = await leadProvinceRule(sequelize, [b.proposal.callId], transaction);
  const exclusions = await ReviewerExclusion.findAll({ where: { proposalId: b.proposal.id }, attributes: ['expertUserId', 'expertName', 'expertInstitution', 'reason'], raw: true, transaction });
  const lead = b.partners.find((p) => p.isLead);
  const institutions = b.partners.map((p) => ({ institutionId: p.institutionId, name: p.institutionName, isLead: p.isLead }));
  if (b.proposal.leadInstitutionId !== null && !institutions.some((i) => i.institutionId === b.proposal.leadInstitutionId)) {
    const inst = await Institution.findByPk(b.proposal.leadInstitutionId, { attributes: ['nameZh'], raw: true, transaction });
    institutions.push({ institutionId: b.proposal.leadInstitutionId, name: inst?.nameZh ?? '', isLead: true });
  }
  return {
    proposalId: b.proposal.id,
    piUserId: b.proposal.piUserId,
    institutions,
    contactUserIds: b.partners.map((p) => p.contactUserId).filter((x): x is number => x !== null),
    leadProvinceCode: lead?.provinceCode ?? null,
    noExpertFromLeadProvince: rule.get(b.proposal.callId) ?? false,
    exclusions: exclusions.map((x) => ({ expertUserId: x.expertUserId, expertName: x.expertName, expertInstitution: x.expertInstitution, reason: x.reason })),
  };
}

/** Conflict facts of many proposals at once (a call's worth), in a fixed number of queries. */
export async function proposalFacts(sequelize: Sequelize, proposalIds: number[], transaction?: Transaction): Promise<ProposalConflictFacts[]> {
  if (!proposalIds.length) return [];
  const [proposals, partners, exclusions] = await Promise.all([
    Proposal.findAll({ where: { id: { [Op.in]: proposalIds } }, attributes: ['id', 'callId', 'piUserId', 'leadInstitutionId'], order: [['id', 'ASC']], raw: true, transaction }),
    ProposalPartner.findAll({ where: { proposalId: { [Op.in]: proposalIds } }, attributes: ['proposalId', 'institutionId', 'provinceCode', 'isLead', 'contactUserId'], raw: true, transaction }),
    ReviewerExclusion.findAll({ where: { proposalId: { [Op.in]: proposalIds } }, attributes: ['proposalId', 'expertUserId', 'expertName', 'expertInstitution', 'reason'], raw: true, transaction }),
  ]);
  const instIds = [...new Set([...partners.map((p) => p.institutionId), ...proposals.map((p) => p.leadInstitutionId).filter((x): x is number => x !== null)])];
  const [institutions, rules] = await Promise.all([
    instIds.length ? Institution.findAll({ where: { id: { [Op.in]: instIds } }, attributes: ['id', 'nameZh', 'provinceCode'], raw: true, transaction }) : [],
    leadProvinceRule(sequelize, [...new Set(proposals.map((p) => p.callId))], transaction),
  ]);
  const inst = new Map(institutions.map((i) => [i.id, i]));
  const partnersOf = groupBy(partners);
  const exclusionsOf = groupBy(exclusions);
  return proposals.map((p) => {
    const mine = partnersOf.get(p.id) ?? [];
    const list = mine.map((x) => ({ institutionId: x.institutionId, name: inst.get(x.institutionId)?.nameZh ?? '', isLead: !!x.isLead }));
    if (p.leadInstitutionId !== null && !list.some((i) => i.institutionId === p.leadInstitutionId)) list.push({ institutionId: p.leadInstitutionId, name: inst.get(p.leadInstitutionId)?.nameZh ?? '', isLead: true });
    const leadPartner = mine.find((x) => !!x.isLead);
    return {
      proposalId: p.id,
      piUserId: p.piUserId,
      institutions: list,
      contactUserIds: mine.map((x) => x.contactUserId).filter((x): x is number => x !== null),
      leadProvinceCode: leadPartner?.provinceCode ?? (p.leadInstitutionId !== null ? (inst.get(p.leadInstitutionId)?.provinceCode ?? null) : null),
      noExpertFromLeadProvince: rules.get(p.callId) ?? false,
      exclusions: (exclusionsOf.get(p.id) ?? []).map((x) => ({ expertUserId: x.expertUserId, expertName: x.expertName, expertInstitution: x.expertInstitution, reason: x.reason })),
    };
  });
}

function groupBy<T extends { proposalId: number }>(rows: T[]): Map<number, T[]> {
  const m = new Map<number, T[]>();
  for (const r of rows) {
    const l = m.get(r.proposalId);
    if (l) l.push(r);
    else m.set(r.proposalId, [r]);
  }
  return m;
}

/** Conflict facts of experts: institution and its province, and their personal sanctions in force at `at`. */
export async function expertFacts(userIds: number[], at: Date, transaction?: Transaction): Promise<ExpertConflictFacts[]> {
  if (!userIds.length) return [];
  const users = await User.findAll({ where: { id: { [Op.in]: userIds } }, attributes: ['id', 'name', 'institutionId'], order: [['id', 'ASC']], raw: true, transaction });
  const instIds = [...new Set(users.map((u) => u.institutionId).filter((x): x is number => x !== null))];
  const [institutions, sanctions] = await Promise.all([
    instIds.length ? Institution.findAll({ where: { id: { [Op.in]: instIds } }, attributes: ['id', 'nameZh', 'nameEn', 'provinceCode'], raw: true, transaction }) : [],
    activeSanctionsFor({ userIds: users.map((u) => u.id) }, at, transaction),
  ]);
  const inst = new Map(institutions.map((i) => [i.id, i]));
  return users.map((u) => {
    const i = u.institutionId !== null ? inst.get(u.institutionId) : undefined;
    return {
      userId: u.id,
      name: u.name,
      institutionId: u.institutionId,
      institutionNames: i ? [i.nameZh, ...(i.nameEn ? [i.nameEn] : [])] : [],
      provinceCode: i?.provinceCode ?? null,
      sanctions: sanctions.filter((s) => s.subjectUserId === u.id).map((s) => ({ id: s.id, provinceCode: s.provinceCode, lastDay: s.lastDay })),
    };
  });
}

/** Declarations and officers' decisions on record for these pairs. */
export async function decisionsFor(proposalIds: number[], expertUserIds: number[], transaction?: Transaction): Promise<ConflictDecisions> {
  if (!proposalIds.length || !expertUserIds.length) return { declared: [], overrides: [] };
  // By proposal only, the experts filtered here: an IN list on both columns of the pair index makes the database
  // probe every proposal × expert (10 million probes, seconds, for a call of 2,000 proposals and 5,000 experts).
  const where = { proposalId: { [Op.in]: proposalIds } };
  const [declared, overrides] = await Promise.all([
    DeclaredConflict.findAll({ where, attributes: ['proposalId', 'expertUserId', 'reason'], raw: true, transaction }),
    ConflictOverride.findAll({ where, attributes: ['proposalId', 'expertUserId', 'kind', 'cause', 'reason'], raw: true, transaction }),
  ]);
  const experts = new Set(expertUserIds);
  return { declared: declared.filter((x) => experts.has(x.expertUserId)), overrides: overrides.filter((x) => experts.has(x.expertUserId)) };
}

/** Every conflict (lifted ones included) between a proposal and these experts, at `at` (sanctions in force then). */
export async function conflictsFor(sequelize: Sequelize, bundle: ProposalBundle, expertUserIds: number[], at = new Date(), transaction?: Transaction): Promise<Conflict[]> {
  const [p, experts, decisions] = await Promise.all([
    proposalFactsOf(sequelize, bundle, transaction),
    expertFacts(expertUserIds, at, transaction),
    decisionsFor([bundle.proposal.id], expertUserIds, transaction),
  ]);
  return conflictMatrix([p], experts, decisions);
}

/** Every conflict between many proposals and many experts (for the assignment of a whole call). */
export async function conflictsForProposals(sequelize: Sequelize, proposalIds: number[], expertUserIds: number[], at = new Date(), transaction?: Transaction): Promise<Conflict[]> {
  const [ps, experts, decisions] = await Promise.all([
    proposalFacts(sequelize, proposalIds, transaction),
    expertFacts(expertUserIds, at, transaction),
    decisionsFor(proposalIds, expertUserIds, transaction),
  ]);
  return conflictMatrix(ps, experts, decisions);
}

// ---- commands -------------------------------------------------------------------------------------------

export type ConflictResult = { ok: true } | { ok: false; status: 400 | 403 | 404; reason: string };
const NOT_FOUND: ConflictResult = { ok: false, status: 404, reason: 'experts:conflicts.errors.notFound' };

async function pairExists(t: Transaction, proposalId: number, expertUserId: number): Promise<boolean> {
  const [p, u] = await Promise.all([Proposal.findByPk(proposalId, { attributes: ['id'], transaction: t }), User.findByPk(expertUserId, { attributes: ['id'], transaction: t })]);
  return !!p && !!u;
}

const reasonOf = (raw: string) => raw.trim().slice(0, 500);

/** An expert declares a conflict with a proposal (or changes the reason of their declaration). */
export async function declareConflict(sequelize: Sequelize, ctx: AuditContext, expertUserId: number, proposalId: number, rawReason: string): Promise<ConflictResult> {
  const reason = reasonOf(rawReason);
  if (!reason) return { ok: false, status: 400, reason: 'experts:conflicts.errors.reasonRequired' };
  const run = () =>
    withTransaction(sequelize, async (t): Promise<ConflictResult> => {
      if (!(await pairExists(t, proposalId, expertUserId))) return NOT_FOUND;
      const row = await DeclaredConflict.findOne({ where: { proposalId, expertUserId }, transaction: t, lock: t.LOCK.UPDATE });
      const before = row ? { reason: row.reason } : null;
      if (row) await row.update({ reason }, { transaction: t });
      else await DeclaredConflict.create({ proposalId, expertUserId, reason }, { transaction: t });
      await audit(t, ctx, { action: 'conflict.declare', entityType: 'proposal', entityId: proposalId, before, after: { expertUserId, reason } });
      return { ok: true };
    });
  try {
    return await run();
  } catch (e) {
    if (e instanceof UniqueConstraintError) return run(); // declared twice at once: the second updates
    throw e;
  }
}

/** An expert withdraws their declaration. */
export async function withdrawDeclaredConflict(sequelize: Sequelize, ctx: AuditContext, expertUserId: number, proposalId: number): Promise<ConflictResult> {
  return withTransaction(sequelize, async (t): Promise<ConflictResult> => {
    const row = await DeclaredConflict.findOne({ where: { proposalId, expertUserId }, transaction: t, lock: t.LOCK.UPDATE });
    if (!row) return NOT_FOUND;
    await row.destroy({ transaction: t });
    await audit(t, ctx, { action: 'conflict.withdraw_declaration', entityType: 'proposal', entityId: proposalId, before: { expertUserId, reason: row.reason } });
    return { ok: true };
  });
}

/** An officer adds a conflict (cause officerAdded) with a reason. */
export async function addConflict(sequelize: Sequelize, ctx: AuditContext, i: { proposalId: number; expertUserId: number; reason: string }): Promise<ConflictResult> {
  return putOverride(sequelize, ctx, { ...i, kind: 'add', cause: 'officerAdded' });
}

/**
 * An officer lifts one computed conflict (one cause, one pair) with a reason. Sanctions cannot be lifted, and
 * only a conflict that exists now can be lifted.
 */
export async function liftConflict(sequelize: Sequelize, ctx: AuditContext, i: { proposalId: number; expertUserId: number; cause: string; reason: string }, at = new Date()): Promise<ConflictResult> {
  if (!isLiftable(i.cause)) return { ok: false, status: 403, reason: 'experts:conflicts.errors.notLiftable' };
  const current = await conflictsForProposals(sequelize, [i.proposalId], [i.expertUserId], at);
  if (!current.some((c) => c.cause === i.cause)) return { ok: false, status: 400, reason: 'experts:conflicts.errors.noSuchConflict' };
  return putOverride(sequelize, ctx, { ...i, kind: 'lift', cause: i.cause });
}

async function putOverride(sequelize: Sequelize, ctx: AuditContext, i: { proposalId: number; expertUserId: number; kind: 'add' | 'lift'; cause: ConflictCause; reason: string }): Promise<ConflictResult> {
  const reason = reasonOf(i.reason);
  if (!reason) return { ok: false, status: 400, reason: 'experts:conflicts.errors.reasonRequired' };
  return withTransaction(sequelize, async (t): Promise<ConflictResult> => {
    if (!(await pairExists(t, i.proposalId, i.expertUserId))) return NOT_FOUND;
    const where = { proposalId: i.proposalId, expertUserId: i.expertUserId, cause: i.cause };
    const row = await ConflictOverride.findOne({ where, transaction: t, lock: t.LOCK.UPDATE });
    const before = row ? { kind: row.kind, cause: row.cause, reason: row.reason } : null;
    if (row) await row.update({ kind: i.kind, reason, createdBy: ctx.actorId }, { transaction: t });
    else await ConflictOverride.create({ ...where, kind: i.kind, reason, createdBy: ctx.actorId }, { transaction: t });
    await audit(t, ctx, {
      action: i.kind === 'add' ? 'conflict.add' : 'conflict.lift',
      entityType: 'proposal',
      entityId: i.proposalId,
      before,
      after: { expertUserId: i.expertUserId, kind: i.kind, cause: i.cause, reason },
    });
    return { ok: true };
  });
}

/** An officer withdraws a decision: an added conflict disappears, a lifted one applies again. */
export async function withdrawOverride(sequelize: Sequelize, ctx: AuditContext, i: { proposalId: number; expertUserId: number; cause: string; reason: string }): Promise<ConflictResult> {
  const reason = reasonOf(i.reason);
  if (!reason) return { ok: false, status: 400, reason: 'experts:conflicts.errors.reasonRequired' };
  return withTransaction(sequelize, async (t): Promise<ConflictResult> => {
    const row = await ConflictOverride.findOne({ where: { proposalId: i.proposalId, expertUserId: i.expertUserId, cause: i.cause }, transaction: t, lock: t.LOCK.UPDATE });
    if (!row) return NOT_FOUND;
    await row.destroy({ transaction: t });
    await audit(t, ctx, {
      action: 'conflict.withdraw_override',
      entityType: 'proposal',
      entityId: i.proposalId,
      before: { expertUserId: i.expertUserId, kind: row.kind, cause: row.cause, reason: row.reason },
      after: { withdrawReason: reason },
    });
    return { ok: true };
  });
}
