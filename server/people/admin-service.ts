/**
 * Administration of users and roles: search, the user's page, and the commands (grant, revoke, disable,
 * enable). Each command runs in one transaction with an audit event (before/after) and ends the target's
 * sessions, because the session keeps the actor's roles: the change must take effect on the next request.
 */
import { QueryTypes, UniqueConstraintError, type Sequelize, type Transaction } from 'sequelize';
import { audit, type AuditContext } from '../platform/audit.js';
import { withTransaction } from '../platform/db.js';
import type { FieldErrors } from '../platform/forms.js';
import { destroyUserSessions } from '../platform/session-store.js';
import { containsPattern, PAGE_SIZE } from './institution-service.js';
import { Institution, Province, User, UserRole } from './models.js';
import { disableRefusal, revokeRefusal } from './policy.js';
import { grantProblem, roleScopeKey, type RoleGrant, type RoleName } from './rules.js';

export interface RoleTag {
  role: RoleName;
  provinceCode: string | null;
}

export interface UserRow {
  id: number;
  name: string;
  email: string;
  disabled: boolean;
  verified: boolean;
  createdAt: Date;
  institutionZh: string | null;
  institutionEn: string | null;
  roles: RoleTag[];
}

/** Users whose name or e-mail contains `q` (wildcards taken literally), optionally holding `role`. */
export async function searchUsers(sequelize: Sequelize, f: { q: string; role: string; page: number }, pageSize = PAGE_SIZE): Promise<{ rows: UserRow[]; count: number }> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.q) {
    const like = containsPattern(f.q);
    where.push("(u.name LIKE ? ESCAPE '!' OR u.email LIKE ? ESCAPE '!')"), params.push(like, like);
  }
  if (f.role) where.push('EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = ?)'), params.push(f.role);
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const [counted] = await sequelize.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM users u ${clause}`, { replacements: params, type: QueryTypes.SELECT });
  const users = await sequelize.query<{ id: number; name: string; email: string; disabledAt: unknown; emailVerifiedAt: unknown; createdAt: string | Date; institutionZh: string | null; institutionEn: string | null }>(
    `SELECT u.id, u.name, u.email, u.disabled_at AS disabledAt, u.email_verified_at AS emailVerifiedAt, u.created_at AS createdAt,
            i.name_zh AS institutionZh, i.name_en AS institutionEn
       FROM users u LEFT JOIN institutions i ON i.id = u.institution_id
       ${clause}
      ORDER BY u.name, u.id
      LIMIT ? OFFSET ?`,
    { replacements: [...params, pageSize, (f.page - 1) * pageSize], type: QueryTypes.SELECT },
  );
  const ids = users.map((u) => u.id);
  const roles = ids.length
    ? await UserRole.findAll({ where: { userId: ids }, attributes: ['userId', 'role', 'provinceCode'], order: [['id', 'ASC']], raw: true })
    : [];
  const rows = users.map((u) => ({
    id: u.id,
    name: u.name,
    email: u.email,
    disabled: !!u.disabledAt,
    verified: !!u.emailVerifiedAt,
    createdAt: new Date(u.createdAt),
    institutionZh: u.institutionZh,
    institutionEn: u.institutionEn,
    roles: roles.filter((r) => r.userId === u.id).map((r) => ({ role: r.role, provinceCode: r.provinceCode })),
  }));
  return { rows, count: Number(counted?.n ?? 0) };
}

export interface UserDetail {
  id: number;
  name: string;
  email: string;
  lang: string;
  disabledAt: Date | null;
  emailVerifiedAt: Date | null;
  createdAt: Date;
  institutionZh: string | null;
  institutionEn: string | null;
  roles: Array<{
    id: number;
    role: RoleName;
    provinceCode: string | null;
    provinceZh: string | null;
    provinceEn: string | null;
    institutionZh: string | null;
    institutionEn: string | null;
    createdAt: Date;
    grantedByName: string | null;
  }>;
}

export async function userDetail(sequelize: Sequelize, id: number): Promise<UserDetail | null> {
  const user = await User.findByPk(id, { attributes: ['id', 'name', 'email', 'lang', 'disabledAt', 'emailVerifiedAt', 'createdAt', 'institutionId'], raw: true });
  if (!user) return null;
  const inst = user.institutionId ? await Institution.findByPk(user.institutionId, { attributes: ['nameZh', 'nameEn'], raw: true }) : null;
  const roles = await sequelize.query<UserDetail['roles'][number]>(
    `SELECT r.id, r.role, r.province_code AS provinceCode, p.name_zh AS provinceZh, p.name_en AS provinceEn,
            i.name_zh AS institutionZh, i.name_en AS institutionEn, r.created_at AS createdAt, g.name AS grantedByName
       FROM user_roles r
       LEFT JOIN provinces p ON p.code = r.province_code
       LEFT JOIN institutions i ON i.id = r.institution_id
       LEFT JOIN users g ON g.id = r.granted_by
      WHERE r.user_id = ?
      ORDER BY r.id`,
    { replacements: [id], type: QueryTypes.SELECT },
  );
  return {
    id: user.id,
    name: user.name,
    email: user.email,
    lang: user.lang,
    disabledAt: user.disabledAt ? new Date(user.disabledAt) : null,
    emailVerifiedAt: user.emailVerifiedAt ? new Date(user.emailVerifiedAt) : null,
    createdAt: new Date(user.createdAt),
    institutionZh: inst?.nameZh ?? null,
    institutionEn: inst?.nameEn ?? null,
    roles: roles.map((r) => ({ ...r, createdAt: new Date(r.createdAt) })),
  };
}

// ---- commands ------------------------------------------------------------------------------------

export type AdminResult = { ok: true } | { ok: false; errors: FieldErrors } | { ok: false; status: 403 | 404; reason: string };

/** Options of a command: when admins change their own account, their current session stays (and is refreshed). */
export interface SessionOptions {
  keepSid?: string;
}

const NO_USER: AdminResult = { ok: false, status: 404, reason: 'admin:errors.userNotFound' };

async function rolesOf(t: Transaction, userId: number): Promise<RoleGrant[]> {
  const rows = await UserRole.findAll({ where: { userId }, attributes: ['role', 'provinceCode', 'institutionId'], order: [['id', 'ASC']], transaction: t, raw: true });
  return rows.map((r) => ({ role: r.role, provinceCode: r.provinceCode, institutionId: r.institutionId }));
}

async function endSessions(sequelize: Sequelize, t: Transaction, userId: number, o: SessionOptions) {
  await destroyUserSessions(sequelize, userId, { transaction: t, ...(o.keepSid ? { exceptSid: o.keepSid } : {}) });
}

/** A grant keeps only the scope its role uses: an officer's province, an institution admin's institution. */
export function normaliseGrant(g: RoleGrant): RoleGrant {
  return { role: g.role, provinceCode: g.role === 'officer' ? (g.provinceCode ?? null) : null, institutionId: g.role === 'institution_admin' ? (g.institutionId ?? null) : null };
}

const PROBLEM_FIELD: Record<string, string> = {
  'people:roles.errors.provinceRequired': 'provinceCode',
  'people:roles.errors.institutionRequired': 'institutionId',
};

export async function grantRole(sequelize: Sequelize, ctx: AuditContext, userId: number, input: RoleGrant, o: SessionOptions = {}): Promise<AdminResult> {
  const grant = normaliseGrant(input);
  const problem = grantProblem(grant);
  if (problem) return { ok: false, errors: { [PROBLEM_FIELD[problem] ?? 'role']: problem } };
  const duplicate: AdminResult = { ok: false, errors: { role: 'admin:errors.duplicateRole' } };
  try {
    return await withTransaction(sequelize, async (t): Promise<AdminResult> => {
      const user = await User.findByPk(userId, { transaction: t, lock: t.LOCK.UPDATE });
      if (!user) return NO_USER;
      const errors: FieldErrors = {};
      if (grant.provinceCode && !(await Province.findByPk(grant.provinceCode, { transaction: t }))) errors.provinceCode = 'admin:errors.provinceUnknown';
      if (grant.institutionId && !(await Institution.findByPk(grant.institutionId, { attributes: ['id'], transaction: t }))) errors.institutionId = 'admin:errors.institutionUnknown';
      if (Object.keys(errors).length) return { ok: false, errors };
      const scopeKey = roleScopeKey(grant);
      if (await UserRole.findOne({ where: { userId, role: grant.role, scopeKey }, attributes: ['id'], transaction: t })) return duplicate;
      const before = await rolesOf(t, userId);
      await UserRole.create({ userId, role: grant.role, provinceCode: grant.provinceCode ?? null, institutionId: grant.institutionId ?? null, scopeKey, grantedBy: ctx.actorId }, { transaction: t });
      await endSessions(sequelize, t, userId, o);
      await audit(t, ctx, { action: 'user.grant_role', entityType: 'user', entityId: userId, before: { roles: before }, after: { roles: await rolesOf(t, userId), granted: grant } });
      return { ok: true };
    });
  } catch (e) {
    if (e instanceof UniqueConstraintError) return duplicate;
    throw e;
  }
}

export async function revokeRole(sequelize: Sequelize, ctx: AuditContext, userId: number, roleId: number, o: SessionOptions = {}): Promise<AdminResult> {
  return withTransaction(sequelize, async (t): Promise<AdminResult> => {
    const row = await UserRole.findOne({ where: { id: roleId, userId }, transaction: t, lock: t.LOCK.UPDATE });
    if (!row) return { ok: false, status: 404, reason: 'admin:errors.roleNotFound' };
    const refusal = ctx.actorId ? revokeRefusal(ctx.actorId, userId, row.role) : null;
    if (refusal) return { ok: false, status: 403, reason: refusal };
    const before = await rolesOf(t, userId);
    const revoked = { role: row.role, provinceCode: row.provinceCode, institutionId: row.institutionId };
    await row.destroy({ transaction: t });
    await endSessions(sequelize, t, userId, o);
    await audit(t, ctx, { action: 'user.revoke_role', entityType: 'user', entityId: userId, before: { roles: before }, after: { roles: await rolesOf(t, userId), revoked } });
    return { ok: true };
  });
}

/** Disable (sign-in refused, every session ended at once) or enable an account. */
export async function setUserDisabled(sequelize: Sequelize, ctx: AuditContext, userId: number, disabled: boolean): Promise<AdminResult> {
  return withTransaction(sequelize, async (t): Promise<AdminResult> => {
    const refusal = disabled && ctx.actorId ? disableRefusal(ctx.actorId, userId) : null;
    if (refusal) return { ok: false, status: 403, reason: refusal };
    const user = await User.findByPk(userId, { transaction: t, lock: t.LOCK.UPDATE });
    if (!user) return NO_USER;
    if (!!user.disabledAt === disabled) return { ok: true }; // already so: nothing to change or record
    const before = { disabledAt: user.disabledAt };
    await user.update({ disabledAt: disabled ? new Date() : null }, { transaction: t });
    await endSessions(sequelize, t, userId, {});
    await audit(t, ctx, { action: disabled ? 'user.disable' : 'user.enable', entityType: 'user', entityId: userId, before, after: { disabledAt: user.disabledAt } });
    return { ok: true };
  });
}
