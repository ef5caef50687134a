/**
 * Integrity sanctions (科研失信), shared by the four provinces: the checks other areas call (who is under a
 * sanction at a given instant), the list and detail pages, and the commands (record, correct, lift) — each in
 * one transaction with an audit event carrying before and after.
 */
import { Op, type Sequelize, type Transaction, type WhereOptions } from 'sequelize';
import { audit, AuditEvent, type AuditContext } from '../platform/audit.js';
import { withTransaction } from '../platform/db.js';
import { ReadCache } from '../platform/read-cache.js';
import { instanceFromRow, sqlOf, type Param } from '../platform/sql.js';
import type { FieldErrors } from '../platform/forms.js';
import { officerProvinces, type Actor } from '../platform/policy.js';
import { Institution, Province, User } from '../people/models.js';
import { checkCreditCode, normaliseEmail } from '../people/rules.js';
import type { ProposalBundle } from '../proposals/bundle.js';
import type { ChecklistItem } from '../proposals/rules.js';
import { containsPattern, PAGE_SIZE } from '../people/institution-service.js';
import { IntegritySanction, onSanctionsChanged } from './models.js';
import { effectiveEnd, lastDayOf, periodFrom, shanghaiDay, sanctionsAgainst, sanctionState, type SanctionState, type SubjectType } from './rules.js';
import type { SanctionCreateInput, SanctionEditInput, SanctionSearch } from './schema.js';

/** A sanction in force, with what a page, a checklist or a refusal shows about it. */
export interface ActiveSanction {
  id: number;
  subjectType: SubjectType;
  subjectName: string;
  subjectUserId: number | null;
  subjectInstitutionId: number | null;
  subjectCreditCode: string | null;
  provinceCode: string;
  reason: string;
  legalBasis: string;
  startsAt: Date;
  /** The first day under sanction (Beijing calendar, YYYY-MM-DD). */
  startDay: string;
  /** Effective end (exclusive): the earlier of the end date and the lift; null = no end date. */
  endsAt: Date | null;
  /** The last day under sanction (Beijing calendar, inclusive), or null when open-ended. */
  lastDay: string | null;
}

function toActive(s: IntegritySanction): ActiveSanction {
  const end = effectiveEnd(s);
  return {
    id: s.id,
    subjectType: s.subjectType,
    subjectName: s.subjectName,
    subjectUserId: s.subjectUserId,
    subjectInstitutionId: s.subjectInstitutionId,
    subjectCreditCode: s.subjectCreditCode,
    provinceCode: s.provinceCode,
    reason: s.reason,
    legalBasis: s.legalBasis,
    startsAt: s.startsAt,
    startDay: shanghaiDay(s.startsAt),
    endsAt: end,
    lastDay: end ? lastDayOf(end) : null,
  };
}

export interface PartyIds {
  userIds?: Iterable<number>;
  institutionIds?: Iterable<number>;
  creditCodes?: Iterable<string>;
  /** `creditCodes` hold the code of every institution in `institutionIds` already (no need to look them up). */
  codesComplete?: boolean;
}

interface SanctionIndex {
  byUser: Map<number, IntegritySanction[]>;
  byCode: Map<string, IntegritySanction[]>;
  byInstitution: Map<number, IntegritySanction[]>;
}

/**
 * Every sanction, by subject, kept for a second (platform/read-cache.ts) and dropped at once when this process
 * records, corrects or lifts one: every checklist asks, and at a deadline every submit. The register is small
 * (people and institutions found in breach), and an instant in the past or future is answered from it too.
 */
const sanctionIndex = new ReadCache<Sequelize, SanctionIndex>(1000, async (sequelize) => {
  const rows = (await sqlOf(sequelize).all<Record<string, unknown>>('SELECT * FROM integrity_sanctions')).map((r) => instanceFromRow(IntegritySanction, r));
  const index: SanctionIndex = { byUser: new Map(), byCode: new Map(), byInstitution: new Map() };
  const add = <K>(m: Map<K, IntegritySanction[]>, k: K | null, s: IntegritySanction) => {
    if (k === null) return;
    const list = m.get(k);
    if (list) list.push(s);
    else m.set(k, [s]);
  };
  for (const s of rows) {
    add(index.byUser, s.subjectUserId, s);
    add(index.byCode, s.subjectCreditCode?.toUpperCase() ?? null, s);
    add(index.byInstitution, s.subjectInstitutionId, s);
  }
  return index;
});
onSanctionsChanged(() => sanctionIndex.clear());

/**
 * The sanctions in force at `at` against any of these people (user ids) or institutions (registry ids, or
 * credit codes — an institution is matched by its credit code too, so a sanction recorded before the
 * institution joined the registry still applies). Pass the transaction of a command that relies on the answer:
 * it then reads the table itself.
 */
export async function activeSanctionsFor(parties: PartyIds, at: Date, transaction?: Transaction): Promise<ActiveSanction[]> {
  const userIds = [...new Set(parties.userIds ?? [])].filter((n) => Number.isInteger(n));
  const institutionIds = [...new Set(parties.institutionIds ?? [])].filter((n) => Number.isInteger(n));
  const codes = new Set([...(parties.creditCodes ?? [])].map((c) => c.trim().toUpperCase()).filter(Boolean));
  // Plain SQL (platform/sql.ts): every checklist, and every submit at a deadline, asks.
  const sql = sqlOf(IntegritySanction.sequelize!);
  if (institutionIds.length && !parties.codesComplete) {
    const rows = await sql.all<{ credit_code: string }>('SELECT credit_code FROM institutions WHERE id IN (?)', [institutionIds], transaction);
    for (const r of rows) codes.add(r.credit_code.toUpperCase());
  }
  const who: string[] = [];
  const params: Param[] = [];
  if (userIds.length) (who.push("(subject_type = 'person' AND subject_user_id IN (?))"), params.push(userIds));
  if (codes.size) (who.push("(subject_type = 'institution' AND subject_credit_code IN (?))"), params.push([...codes]));
  if (institutionIds.length) (who.push("(subject_type = 'institution' AND subject_institution_id IN (?))"), params.push(institutionIds));
  if (!who.length) return [];
  let rows: IntegritySanction[];
  if (transaction) {
    const raw = await sql.all<Record<string, unknown>>(`SELECT * FROM integrity_sanctions WHERE (${who.join(' OR ')}) AND starts_at <= ? AND (ends_at IS NULL OR ends_at > ?) AND (lifted_at IS NULL OR lifted_at > ?)`, [...params, at, at, at], transaction);
    rows = raw.map((r) => instanceFromRow(IntegritySanction, r));
  } else {
    const index = await sanctionIndex.get(IntegritySanction.sequelize!);
    const found = new Set<IntegritySanction>();
    for (const id of userIds) for (const s of index.byUser.get(id) ?? []) found.add(s);
    for (const code of codes) for (const s of index.byCode.get(code) ?? []) found.add(s);
    for (const id of institutionIds) for (const s of index.byInstitution.get(id) ?? []) found.add(s);
    rows = [...found];
  }
  rows.sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime() || a.id - b.id);
  // The decision in plain code (the SQL or the index only narrow the rows): start inclusive, end exclusive.
  return sanctionsAgainst(rows, { userIds, institutionIds, creditCodes: codes }, at).map(toActive);
}

/**
 * The people and institutions of a proposal: the PI, the partners' contacts, every consortium institution
 * (with the credit codes the bundle read).
 */
export function partiesOf(bundle: ProposalBundle): Required<PartyIds> & { userIds: number[]; institutionIds: number[] } {
  const userIds = [bundle.proposal.piUserId, ...bundle.partners.map((p) => p.contactUserId).filter((x): x is number => x !== null)];
  const institutionIds = bundle.partners.map((p) => p.institutionId);
  if (bundle.proposal.leadInstitutionId !== null) institutionIds.push(bundle.proposal.leadInstitutionId);
  const creditCodes = bundle.partners.map((p) => p.creditCode).filter((c): c is string => !!c);
  const known = new Set(bundle.partners.filter((p) => p.creditCode).map((p) => p.institutionId));
  return { userIds: [...new Set(userIds)], institutionIds: [...new Set(institutionIds)], creditCodes, codesComplete: institutionIds.every((id) => known.has(id)) };
}

/** The sanctions in force at `at` against anyone in the proposal's consortium. */
export function sanctionsAgainstProposal(bundle: ProposalBundle, at: Date, transaction?: Transaction): Promise<ActiveSanction[]> {
  return activeSanctionsFor(partiesOf(bundle), at, transaction);
}

/**
 * Checklist items (proposals/rules.ts `ChecklistItem`, key 'sanction', step 'consortium') for every sanction in
 * force at `at` against the proposal's PI, partner contacts or institutions. `params.who` is the sanctioned
 * person or institution; `until` the last day (YYYY-MM-DD, '' when open-ended), `province` the recording
 * province code, `basis` the legal basis.
 */
export async function sanctionProblems(bundle: ProposalBundle, at: Date, transaction?: Transaction): Promise<ChecklistItem[]> {
  return (await sanctionsAgainstProposal(bundle, at, transaction)).map((s) => ({
    key: s.lastDay ? 'sanction' : 'sanctionOpenEnded',
    ok: false,
    step: 'consortium',
    params: { who: s.subjectName, until: s.lastDay ?? '', province: s.provinceCode, basis: s.legalBasis },
  }));
}

/** Just the names, for `checklist(…, { sanctioned })` in proposals/rules.ts. */
export async function sanctionedNames(bundle: ProposalBundle, at: Date, transaction?: Transaction): Promise<string[]> {
  return [...new Set((await sanctionsAgainstProposal(bundle, at, transaction)).map((s) => s.subjectName))];
}

// ---- list and detail ------------------------------------------------------------------------------------

export interface SanctionRow {
  id: number;
  subjectType: SubjectType;
  subjectName: string;
  subjectEmail: string | null;
  subjectCreditCode: string | null;
  provinceCode: string;
  legalBasis: string;
  startsAt: Date;
  startDay: string;
  lastDay: string | null;
  state: SanctionState;
}

function stateWhere(state: SanctionSearch['state'], now: Date): WhereOptions | null {
  const liftedLater = { [Op.or]: [{ liftedAt: null }, { liftedAt: { [Op.gt]: now } }] };
  const liftedEarly = { liftedAt: { [Op.lte]: now }, [Op.or]: [{ endsAt: null }, { endsAt: { [Op.gt]: IntegritySanction.sequelize!.col('lifted_at') } }] };
  switch (state) {
    case 'active':
      return { [Op.and]: [{ startsAt: { [Op.lte]: now } }, { [Op.or]: [{ endsAt: null }, { endsAt: { [Op.gt]: now } }] }, liftedLater] };
    case 'upcoming':
      return { [Op.and]: [{ startsAt: { [Op.gt]: now } }, liftedLater] };
    case 'lifted':
      return liftedEarly;
    case 'ended':
      return { [Op.and]: [{ endsAt: { [Op.lte]: now } }, { [Op.or]: [{ liftedAt: null }, { liftedAt: { [Op.gte]: IntegritySanction.sequelize!.col('ends_at') } }] }] };
    default:
      return null;
  }
}

/** Every province's sanctions (the list is shared), newest first, with search, province and state filters. */
export async function searchSanctions(f: SanctionSearch, now = new Date(), pageSize = PAGE_SIZE): Promise<{ rows: SanctionRow[]; count: number }> {
  const and: WhereOptions[] = [];
  if (f.q) {
    const like = containsPattern(f.q);
    const users = await User.findAll({ where: { [Op.or]: [{ email: { [Op.like]: like } }, { name: { [Op.like]: like } }] }, attributes: ['id'], limit: 500, raw: true });
    and.push({
      [Op.or]: [
        { subjectName: { [Op.like]: like } },
        { subjectCreditCode: { [Op.like]: containsPattern(f.q.toUpperCase()) } },
        ...(users.length ? [{ subjectUserId: { [Op.in]: users.map((u) => u.id) } }] : []),
      ],
    });
  }
  if (f.province) and.push({ provinceCode: f.province });
  const st = stateWhere(f.state, now);
  if (st) and.push(st);
  const { rows, count } = await IntegritySanction.findAndCountAll({ where: { [Op.and]: and }, order: [['startsAt', 'DESC'], ['id', 'DESC']], limit: pageSize, offset: (f.page - 1) * pageSize });
  const emails = await emailsOf(rows.map((r) => r.subjectUserId));
  return {
    rows: rows.map((s) => {
      const end = effectiveEnd(s);
      return {
        id: s.id,
        subjectType: s.subjectType,
        subjectName: s.subjectName,
        subjectEmail: s.subjectUserId ? (emails.get(s.subjectUserId) ?? null) : null,
        subjectCreditCode: s.subjectCreditCode,
        provinceCode: s.provinceCode,
        legalBasis: s.legalBasis,
        startsAt: s.startsAt,
        startDay: shanghaiDay(s.startsAt),
        lastDay: end ? lastDayOf(end) : null,
        state: sanctionState(s, now),
      };
    }),
    count,
  };
}

async function emailsOf(ids: Array<number | null>): Promise<Map<number, string>> {
  const list = [...new Set(ids.filter((x): x is number => x !== null))];
  if (!list.length) return new Map();
  return new Map((await User.findAll({ where: { id: { [Op.in]: list } }, attributes: ['id', 'email'], raw: true })).map((u) => [u.id, u.email]));
}

export interface SanctionDetail extends SanctionRow {
  reason: string;
  subjectInstitutionId: number | null;
  endsAt: Date | null;
  liftedAt: Date | null;
  liftReason: string | null;
  createdAt: Date;
  history: Array<{ action: string; at: Date; actorName: string | null; changeReason: string | null }>;
}

export async function sanctionDetail(id: number, now = new Date()): Promise<SanctionDetail | null> {
  const s = await IntegritySanction.findByPk(id);
  if (!s) return null;
  const emails = await emailsOf([s.subjectUserId]);
  const events = await AuditEvent.findAll({ where: { entityType: 'integrity_sanction', entityId: String(id) }, order: [['id', 'ASC']], raw: true });
  const names = new Map(
    (await User.findAll({ where: { id: { [Op.in]: events.map((e) => e.actorId).filter((x): x is number => x !== null) } }, attributes: ['id', 'name'], raw: true })).map((u) => [u.id, u.name]),
  );
  const end = effectiveEnd(s);
  return {
    id: s.id,
    subjectType: s.subjectType,
    subjectName: s.subjectName,
    subjectEmail: s.subjectUserId ? (emails.get(s.subjectUserId) ?? null) : null,
    subjectCreditCode: s.subjectCreditCode,
    subjectInstitutionId: s.subjectInstitutionId,
    provinceCode: s.provinceCode,
    reason: s.reason,
    legalBasis: s.legalBasis,
    startsAt: s.startsAt,
    startDay: shanghaiDay(s.startsAt),
    endsAt: s.endsAt,
    lastDay: end ? lastDayOf(end) : null,
    liftedAt: s.liftedAt ?? null,
    liftReason: s.liftReason ?? null,
    createdAt: s.createdAt,
    state: sanctionState(s, now),
    history: events.map((e) => {
      let changeReason: string | null = null;
      try {
        const after = e.afterJson ? (JSON.parse(e.afterJson) as { changeReason?: string; liftReason?: string }) : {};
        changeReason = after.changeReason ?? (e.action === 'integrity.lift' ? (after.liftReason ?? null) : null);
      } catch {
        changeReason = null;
      }
      return { action: e.action, at: new Date(e.createdAt), actorName: e.actorId ? (names.get(e.actorId) ?? null) : null, changeReason };
    }),
  };
}

// ---- commands -------------------------------------------------------------------------------------------

export type SanctionResult = { ok: true; id: number } | { ok: false; errors: FieldErrors } | { ok: false; status: 403 | 404; reason: string };

/** What the audit trail keeps of a sanction. */
function auditView(s: IntegritySanction) {
  return {
    subjectType: s.subjectType,
    subjectUserId: s.subjectUserId,
    subjectInstitutionId: s.subjectInstitutionId,
    subjectCreditCode: s.subjectCreditCode,
    subjectName: s.subjectName,
    provinceCode: s.provinceCode,
    reason: s.reason,
    legalBasis: s.legalBasis,
    startsAt: s.startsAt,
    endsAt: s.endsAt,
    liftedAt: s.liftedAt ?? null,
    liftReason: s.liftReason ?? null,
  };
}

/** Whole seconds: MySQL DATETIME keeps no fraction (and would round it), so code and database agree on instants. */
const toSecond = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000);

/** Officers record a sanction for one of their provinces, on a user (by e-mail) or an institution (by credit code). */
export async function createSanction(sequelize: Sequelize, ctx: AuditContext, actor: Actor, input: SanctionCreateInput): Promise<SanctionResult> {
  const errors: FieldErrors = {};
  if (!officerProvinces(actor).includes(input.provinceCode)) errors.provinceCode = 'integrity:errors.provinceNotYours';
  const period = periodFrom(input);
  if (!period.ok) errors[period.problem.field] = period.problem.key;
  let code: string | null = null;
  if (input.subjectType === 'institution') {
    const checked = checkCreditCode(input.creditCode);
    if (checked.problem) errors.creditCode = `people:institutions.errors.creditCode.${checked.problem}`;
    else code = checked.code;
  }
  if (Object.keys(errors).length || !period.ok) return { ok: false, errors };
  return withTransaction(sequelize, async (t): Promise<SanctionResult> => {
    if (!(await Province.findByPk(input.provinceCode, { transaction: t }))) return { ok: false, errors: { provinceCode: 'integrity:errors.province' } };
    let subject: { subjectUserId: number | null; subjectInstitutionId: number | null; subjectCreditCode: string | null; subjectName: string };
    if (input.subjectType === 'person') {
      const user = await User.findOne({ where: { email: normaliseEmail(input.email) }, attributes: ['id', 'name'], transaction: t });
      if (!user) return { ok: false, errors: { email: 'integrity:errors.userNotFound' } };
      subject = { subjectUserId: user.id, subjectInstitutionId: null, subjectCreditCode: null, subjectName: user.name };
    } else {
      const inst = await Institution.findOne({ where: { creditCode: code! }, attributes: ['id', 'nameZh'], transaction: t });
      if (!inst && !input.institutionName) return { ok: false, errors: { institutionName: 'integrity:errors.institutionName' } };
      subject = { subjectUserId: null, subjectInstitutionId: inst?.id ?? null, subjectCreditCode: code, subjectName: inst?.nameZh ?? input.institutionName };
    }
    const row = await IntegritySanction.create(
      {
        subjectType: input.subjectType,
        ...subject,
        provinceCode: input.provinceCode,
        reason: input.reason,
        legalBasis: input.legalBasis,
        startsAt: period.startsAt,
        endsAt: period.endsAt,
        createdBy: ctx.actorId,
        updatedBy: ctx.actorId,
      },
      { transaction: t },
    );
    await audit(t, ctx, { action: 'integrity.create', entityType: 'integrity_sanction', entityId: row.id, after: auditView(row) });
    return { ok: true, id: row.id };
  });
}

/** Only officers of the recording province correct or lift a sanction. */
export function editRefusal(actor: Actor | null, provinceCode: string): string | null {
  return officerProvinces(actor).includes(provinceCode) ? null : 'integrity:policy.otherProvince';
}

async function lockSanction(t: Transaction, actor: Actor, id: number): Promise<IntegritySanction | SanctionResult> {
  const row = await IntegritySanction.findByPk(id, { transaction: t, lock: t.LOCK.UPDATE });
  if (!row) return { ok: false, status: 404, reason: 'integrity:errors.notFound' };
  const why = editRefusal(actor, row.provinceCode);
  if (why) return { ok: false, status: 403, reason: why };
  return row;
}

/** Correct the reason, legal basis or period of a sanction; the change reason goes to the audit trail. */
export async function updateSanction(sequelize: Sequelize, ctx: AuditContext, actor: Actor, id: number, input: SanctionEditInput): Promise<SanctionResult> {
  const period = periodFrom(input);
  if (!period.ok) return { ok: false, errors: { [period.problem.field]: period.problem.key } };
  return withTransaction(sequelize, async (t): Promise<SanctionResult> => {
    const row = await lockSanction(t, actor, id);
    if (!(row instanceof IntegritySanction)) return row;
    if (row.liftedAt) return { ok: false, status: 403, reason: 'integrity:errors.alreadyLifted' };
    const before = auditView(row);
    await row.update({ reason: input.reason, legalBasis: input.legalBasis, startsAt: period.startsAt, endsAt: period.endsAt, updatedBy: ctx.actorId }, { transaction: t });
    await audit(t, ctx, { action: 'integrity.update', entityType: 'integrity_sanction', entityId: id, before, after: { ...auditView(row), changeReason: input.changeReason } });
    return { ok: true, id };
  });
}

/** End a sanction now (before its end date), with the reason. Ending one already over is refused. */
export async function liftSanction(sequelize: Sequelize, ctx: AuditContext, actor: Actor, id: number, liftReason: string, now = new Date()): Promise<SanctionResult> {
  const at = toSecond(now);
  return withTransaction(sequelize, async (t): Promise<SanctionResult> => {
    const row = await lockSanction(t, actor, id);
    if (!(row instanceof IntegritySanction)) return row;
    if (row.liftedAt) return { ok: false, status: 403, reason: 'integrity:errors.alreadyLifted' };
    if (row.endsAt && row.endsAt.getTime() <= at.getTime()) return { ok: false, status: 403, reason: 'integrity:errors.alreadyEnded' };
    const before = auditView(row);
    await row.update({ liftedAt: at, liftedBy: ctx.actorId, liftReason, updatedBy: ctx.actorId }, { transaction: t });
    await audit(t, ctx, { action: 'integrity.lift', entityType: 'integrity_sanction', entityId: id, before, after: auditView(row) });
    return { ok: true, id };
  });
}

/** For the experts' pages: which of these users are under a personal sanction right now. */
export async function sanctionedUserIds(userIds: number[], at = new Date()): Promise<Set<number>> {
  if (!userIds.length) return new Set();
  return new Set((await activeSanctionsFor({ userIds }, at)).map((s) => s.subjectUserId!).filter((x) => x !== null));
}

