/**
 * Integrity sanctions (科研失信), shared by the four provinces: the list and detail pages, and the commands
 * (record, correct, lift) — each in one transaction with an audit event carrying before and after. Who is under
 * a sanction at a given instant (what other areas ask) is in checks.ts.
 */
import { Op, type Sequelize, type Transaction, type WhereOptions } from 'sequelize';
import { audit, AuditEvent, type AuditContext } from '../platform/audit.js';
import { withTransaction } from '../platform/db.js';
import type { FieldErrors } from '../platform/forms.js';
import { officerProvinces, type Actor } from '../platform/policy.js';
import { Institution, Province, User } from '../people/models.js';
import { checkCreditCode, normaliseEmail } from '../people/rules.js';
import { containsPattern, PAGE_SIZE } from '../people/institution-service.js';
import { IntegritySanction } from './models.js';
import { effectiveEnd, lastDayOf, periodFrom, shanghaiDay, sanctionState, type SanctionState, type SubjectType } from './rules.js';
import type { SanctionCreateInput, SanctionEditInput, SanctionSearch } from './schema.js';

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
