/**
 * Institutions (单位): the registry every user, partner and expert points at. Reads for the pages, and the
 * commands that change the registry — each in one transaction with its audit event; a request decided by
 * an officer or admin also queues the requester's mail in that transaction.
 */
import { patchUserSessions } from '../platform/session-store.js';
import { QueryTypes, UniqueConstraintError, type Sequelize, type Transaction } from 'sequelize';
import { audit, type AuditContext } from '../platform/audit.js';
import { withTransaction } from '../platform/db.js';
import type { FieldErrors } from '../platform/forms.js';
import { queueMail } from '../platform/mail/outbox.js';
import { Institution, InstitutionRequest, Province, User } from './models.js';
import { proposalsWithInstitution, refreshProposalFacts } from '../proposals/facts.js';
import type { InstitutionType } from './rules.js';

export const PAGE_SIZE = 50;

export interface InstitutionOption {
  id: number;
  label: string;
  selected: boolean;
}
export interface ProvinceGroup {
  province: string;
  options: InstitutionOption[];
}

/** The institution picker: institutions grouped by province, in the page's language. */
export async function institutionOptions(lang: string, selectedId?: string | number | null): Promise<ProvinceGroup[]> {
  const [provinces, institutions] = await Promise.all([
    Province.findAll({ order: [['sortOrder', 'ASC']], raw: true }),
    Institution.findAll({ attributes: ['id', 'nameZh', 'nameEn', 'provinceCode'], order: [['nameZh', 'ASC']], raw: true }),
  ]);
  const sel = selectedId ? Number(selectedId) : null;
  return provinces.map((p) => ({
    province: lang === 'en' ? p.nameEn : p.nameZh,
    options: institutions
      .filter((i) => i.provinceCode === p.code)
      .map((i) => ({ id: i.id, label: lang === 'en' && i.nameEn ? i.nameEn : i.nameZh, selected: i.id === sel })),
  }));
}

// ---- list helpers shared by the registry and admin pages -------------------------------------------

/** A LIKE pattern for "contains q", with the wildcards in q escaped (use with `ESCAPE '!'`). */
export function containsPattern(q: string): string {
  return `%${q.replace(/[!%_]/g, '!$&')}%`;
}

export interface Pager {
  page: number;
  pages: number;
  count: number;
  prevHref: string | null;
  nextHref: string | null;
}

/** Previous/next links that keep the (validated) filters. */
export function pagerFor(basePath: string, filters: Record<string, string>, page: number, count: number, pageSize = PAGE_SIZE): Pager {
  const pages = Math.max(1, Math.ceil(count / pageSize));
  const href = (p: number) => {
    const entries = Object.entries({ ...filters, page: p > 1 ? String(p) : '' }).filter(([, v]) => v !== '');
    const s = new URLSearchParams(entries).toString();
    return s ? `${basePath}?${s}` : basePath;
  };
  return { page, pages, count, prevHref: page > 1 ? href(Math.min(page - 1, pages)) : null, nextHref: page < pages ? href(page + 1) : null };
}

export interface ProvinceRow {
  code: string;
  nameZh: string;
  nameEn: string;
}

export async function listProvinces(): Promise<ProvinceRow[]> {
  return Province.findAll({ attributes: ['code', 'nameZh', 'nameEn'], order: [['sortOrder', 'ASC'], ['code', 'ASC']], raw: true });
}

// ---- the registry --------------------------------------------------------------------------------

export interface InstitutionRow {
  id: number;
  nameZh: string;
  nameEn: string | null;
  provinceCode: string;
  provinceZh: string;
  provinceEn: string;
  type: InstitutionType;
  creditCode: string;
}

export interface InstitutionFilter {
  q: string;
  province: string;
  type: string;
  page: number;
}

export async function searchInstitutions(sequelize: Sequelize, f: InstitutionFilter, pageSize = PAGE_SIZE): Promise<{ rows: InstitutionRow[]; count: number }> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.q) {
    const like = containsPattern(f.q);
    where.push("(i.name_zh LIKE ? ESCAPE '!' OR i.name_en LIKE ? ESCAPE '!' OR i.credit_code LIKE ? ESCAPE '!')");
    params.push(like, like, containsPattern(f.q.toUpperCase()));
  }
  if (f.province) where.push('i.province_code = ?'), params.push(f.province);
  if (f.type) where.push('i.type = ?'), params.push(f.type);
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const [counted] = await sequelize.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM institutions i ${clause}`, { replacements: params, type: QueryTypes.SELECT });
  const rows = await sequelize.query<InstitutionRow>(
    `SELECT i.id, i.name_zh AS nameZh, i.name_en AS nameEn, i.province_code AS provinceCode, i.type, i.credit_code AS creditCode,
            p.name_zh AS provinceZh, p.name_en AS provinceEn
       FROM institutions i JOIN provinces p ON p.code = i.province_code
       ${clause}
      ORDER BY p.sort_order, i.province_code, i.name_zh, i.id
      LIMIT ? OFFSET ?`,
    { replacements: [...params, pageSize, (f.page - 1) * pageSize], type: QueryTypes.SELECT },
  );
  return { rows, count: Number(counted?.n ?? 0) };
}

export interface InstitutionInput {
  nameZh: string;
  nameEn: string | null;
  provinceCode: string;
  type: InstitutionType;
  creditCode: string;
}

export type SaveResult = { ok: true; id: number } | { ok: false; errors: FieldErrors };

const TAKEN: SaveResult = { ok: false, errors: { creditCode: 'people:institutions.errors.creditCode.taken' } };

/** The registry fields of an institution or a request, as a plain object (for create, audit and views). */
const fields = (i: InstitutionInput): InstitutionInput => ({ nameZh: i.nameZh, nameEn: i.nameEn, provinceCode: i.provinceCode, type: i.type, creditCode: i.creditCode });
const plain = (i: InstitutionInput & { id: number }) => ({ id: i.id, ...fields(i) });

export async function findInstitution(id: number): Promise<(InstitutionInput & { id: number }) | null> {
  return Institution.findByPk(id, { attributes: ['id', 'nameZh', 'nameEn', 'provinceCode', 'type', 'creditCode'], raw: true });
}

/** Field problems the database knows about: an unknown province, a credit code already registered. */
async function registryProblems(t: Transaction, input: InstitutionInput, excludeId: number | null): Promise<FieldErrors | null> {
  const errors: FieldErrors = {};
  if (!(await Province.findByPk(input.provinceCode, { transaction: t }))) errors.provinceCode = 'people:institutions.errors.province';
  const holder = await Institution.findOne({ where: { creditCode: input.creditCode }, attributes: ['id'], transaction: t, raw: true });
  if (holder && holder.id !== excludeId) errors.creditCode = 'people:institutions.errors.creditCode.taken';
  return Object.keys(errors).length ? errors : null;
}

/** The unique index is the last word: a concurrent registration of the same code becomes a field error. */
async function uniqueCode(run: () => Promise<SaveResult>): Promise<SaveResult> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof UniqueConstraintError) return TAKEN;
    throw e;
  }
}

export async function createInstitution(sequelize: Sequelize, ctx: AuditContext, input: InstitutionInput): Promise<SaveResult> {
  return uniqueCode(() =>
    withTransaction(sequelize, async (t): Promise<SaveResult> => {
      const errors = await registryProblems(t, input, null);
      if (errors) return { ok: false, errors };
      const inst = await Institution.create(fields(input), { transaction: t });
      await audit(t, ctx, { action: 'institution.create', entityType: 'institution', entityId: inst.id, after: plain(inst) });
      return { ok: true, id: inst.id };
    }),
  );
}

export async function updateInstitution(sequelize: Sequelize, ctx: AuditContext, id: number, input: InstitutionInput): Promise<SaveResult> {
  return uniqueCode(() =>
    withTransaction(sequelize, async (t): Promise<SaveResult> => {
      const inst = await Institution.findByPk(id, { transaction: t, lock: t.LOCK.UPDATE });
      if (!inst) return { ok: false, errors: { _form: 'institutions:errors.notFound' } };
      const errors = await registryProblems(t, input, id);
      if (errors) return { ok: false, errors };
      const before = plain(inst);
      await inst.update({ nameZh: input.nameZh, nameEn: input.nameEn, provinceCode: input.provinceCode, type: input.type, creditCode: input.creditCode }, { transaction: t });
      // The screening facts of its proposals follow the institution's type and province.
      if (before.type !== inst.type || before.provinceCode !== inst.provinceCode) await refreshProposalFacts(sequelize, await proposalsWithInstitution(sequelize, id, t), t);
      await audit(t, ctx, { action: 'institution.update', entityType: 'institution', entityId: id, before, after: plain(inst) });
      return { ok: true, id };
    }),
  );
}

// ---- requests for a missing institution ----------------------------------------------------------

/** An applicant asks for an institution missing from the registry. */
export async function requestInstitution(sequelize: Sequelize, ctx: AuditContext, userId: number, input: InstitutionInput): Promise<SaveResult> {
  return withTransaction(sequelize, async (t): Promise<SaveResult> => {
    const errors = await registryProblems(t, input, null);
    if (errors?.creditCode) errors.creditCode = 'institutions:request.alreadyRegistered';
    if (!errors?.creditCode && (await InstitutionRequest.findOne({ where: { creditCode: input.creditCode, status: 'pending' }, attributes: ['id'], transaction: t }))) {
      return { ok: false, errors: { ...errors, creditCode: 'institutions:request.pendingExists' } };
    }
    if (errors) return { ok: false, errors };
    const row = await InstitutionRequest.create({ ...fields(input), requestedBy: userId, decidedBy: null, decisionReason: null, institutionId: null }, { transaction: t });
    await audit(t, ctx, { action: 'institution_request.create', entityType: 'institution_request', entityId: row.id, after: { ...fields(input), requestedBy: userId, status: 'pending' } });
    return { ok: true, id: row.id };
  });
}

export interface RequestRow {
  id: number;
  nameZh: string;
  nameEn: string | null;
  provinceCode: string;
  provinceZh: string;
  provinceEn: string;
  type: InstitutionType;
  creditCode: string;
  status: 'pending' | 'approved' | 'rejected';
  decisionReason: string | null;
  institutionId: number | null;
  requesterName: string;
  requesterEmail: string;
  deciderName: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const REQUEST_COLUMNS = `r.id, r.name_zh AS nameZh, r.name_en AS nameEn, r.province_code AS provinceCode, p.name_zh AS provinceZh, p.name_en AS provinceEn,
  r.type, r.credit_code AS creditCode, r.status, r.decision_reason AS decisionReason, r.institution_id AS institutionId,
  u.name AS requesterName, u.email AS requesterEmail, d.name AS deciderName, r.created_at AS createdAt, r.updated_at AS updatedAt
  FROM institution_requests r JOIN provinces p ON p.code = r.province_code JOIN users u ON u.id = r.requested_by LEFT JOIN users d ON d.id = r.decided_by`;

const dated = (rows: RequestRow[]) => rows.map((r) => ({ ...r, createdAt: new Date(r.createdAt), updatedAt: new Date(r.updatedAt) }));

/** The decision queue: pending first (oldest first), then decided ones (latest first). `provinces` null = all. */
export async function listRequests(sequelize: Sequelize, f: { provinces: string[] | null; status: string; page: number }, pageSize = PAGE_SIZE) {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.provinces) {
    if (!f.provinces.length) return { rows: [] as RequestRow[], count: 0 };
    where.push(`r.province_code IN (${f.provinces.map(() => '?').join(', ')})`), params.push(...f.provinces);
  }
  if (f.status) where.push('r.status = ?'), params.push(f.status);
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const [counted] = await sequelize.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM institution_requests r ${clause}`, { replacements: params, type: QueryTypes.SELECT });
  const rows = await sequelize.query<RequestRow>(
    `SELECT ${REQUEST_COLUMNS} ${clause}
      ORDER BY CASE WHEN r.status = 'pending' THEN 0 ELSE 1 END,
               CASE WHEN r.status = 'pending' THEN r.id ELSE 0 END ASC,
               r.updated_at DESC, r.id DESC
      LIMIT ? OFFSET ?`,
    { replacements: [...params, pageSize, (f.page - 1) * pageSize], type: QueryTypes.SELECT },
  );
  return { rows: dated(rows), count: Number(counted?.n ?? 0) };
}

/** A user's own requests, newest first (shown on the request page). */
export async function requestsOf(sequelize: Sequelize, userId: number): Promise<RequestRow[]> {
  const rows = await sequelize.query<RequestRow>(`SELECT ${REQUEST_COLUMNS} WHERE r.requested_by = ? ORDER BY r.id DESC LIMIT 50`, { replacements: [userId], type: QueryTypes.SELECT });
  return dated(rows);
}

export type DecideResult = { ok: true; outcome: 'approved' | 'rejected'; institutionId: number | null } | { ok: false; reason: string };

/**
 * Approve (the institution enters the registry, the request points at it, and a requester without an
 * institution gets this one) or reject with a reason. The requester is told by mail, queued in the same
 * transaction. A request already decided is left as it is.
 */
export async function decideRequest(
  sequelize: Sequelize,
  ctx: AuditContext,
  id: number,
  d: { decision: 'approve' | 'reject'; reason: string },
  links: { baseUrl: string },
): Promise<DecideResult> {
  try {
    return await withTransaction(sequelize, async (t): Promise<DecideResult> => {
      const req = await InstitutionRequest.findByPk(id, { transaction: t, lock: t.LOCK.UPDATE });
      if (!req) return { ok: false, reason: 'institutions:requests.errors.notFound' };
      if (req.status !== 'pending') return { ok: false, reason: 'institutions:requests.alreadyDecided' };
      const before = { ...plain(req), status: req.status };
      const requester = (await User.findByPk(req.requestedBy, { transaction: t, lock: t.LOCK.UPDATE }))!;
      let institutionId: number | null = null;
      let linked = false;
      if (d.decision === 'approve') {
        if (await Institution.findOne({ where: { creditCode: req.creditCode }, attributes: ['id'], transaction: t })) return { ok: false, reason: 'institutions:requests.errors.codeTaken' };
        const inst = await Institution.create(fields(req), { transaction: t });
        institutionId = inst.id;
        await audit(t, ctx, { action: 'institution.create', entityType: 'institution', entityId: inst.id, after: { ...plain(inst), fromRequest: req.id } });
        if (!requester.institutionId) {
          await requester.update({ institutionId: inst.id }, { transaction: t });
          await patchUserSessions(sequelize, requester.id, { institutionId: inst.id }, t);
          await audit(t, ctx, { action: 'user.set_institution', entityType: 'user', entityId: requester.id, before: { institutionId: null }, after: { institutionId: inst.id, fromRequest: req.id } });
          linked = true;
        }
      }
      const status = d.decision === 'approve' ? 'approved' : 'rejected';
      const [n] = await InstitutionRequest.update(
        { status, decidedBy: ctx.actorId, decisionReason: d.reason || null, institutionId },
        { where: { id, status: 'pending' }, transaction: t },
      );
      if (n !== 1) throw new Error(`institution request ${id} changed during its decision`);
      await audit(t, ctx, {
        action: `institution_request.${d.decision}`,
        entityType: 'institution_request',
        entityId: id,
        before,
        after: { status, decisionReason: d.reason || null, institutionId, requesterLinked: linked },
      });
      const name = requester.lang === 'en' && req.nameEn ? req.nameEn : req.nameZh;
      await queueMail(t, {
        to: { address: requester.email, name: requester.name },
        template: 'institution-request-decided',
        lang: requester.lang,
        data: { institutionName: name, approved: status === 'approved', linked, reason: d.reason, requestsUrl: `${links.baseUrl}/institutions/request` },
      });
      return { ok: true, outcome: status, institutionId };
    });
  } catch (e) {
    if (e instanceof UniqueConstraintError) return { ok: false, reason: 'institutions:requests.errors.codeTaken' };
    throw e;
  }
}
