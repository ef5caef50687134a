/**
 * Account commands: registration with e-mail confirmation, password reset, profile and password changes.
 * Each runs in one transaction, writes its audit event, and queues its mail in the same transaction.
 * Answers never reveal whether an address has an account.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Op, type Sequelize } from 'sequelize';
import { audit, type AuditContext } from '../platform/audit.js';
import { withTransaction } from '../platform/db.js';
import { queueMail } from '../platform/mail/outbox.js';
import { hashPassword, verifyPassword } from '../platform/passwords.js';
import { destroyUserSessions, patchUserSessions } from '../platform/session-store.js';
import { AccountToken, User, UserRole } from './models.js';
import { normaliseEmail } from './rules.js';

export const TOKEN_TTL_MS = { verify: 48 * 3600_000, reset: 3600_000 } as const;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export interface MailLinks {
  baseUrl: string;
}

export async function register(
  sequelize: Sequelize,
  ctx: AuditContext,
  links: MailLinks,
  input: { email: string; name: string; password: string; institutionId: number | null; lang: string },
): Promise<void> {
  const email = normaliseEmail(input.email);
  const passwordHash = await hashPassword(input.password); // outside the transaction: slow and pure
  await withTransaction(sequelize, async (t) => {
    const existing = await User.findOne({ where: { email }, transaction: t });
    if (existing) {
      // Same answer on screen; the owner learns that someone tried, with a way back in.
      await queueMail(t, { to: { address: existing.email, name: existing.name }, template: 'already-registered', lang: existing.lang, data: { resetUrl: `${links.baseUrl}/password/forgot` } });
      return;
    }
    const user = await User.create({ email, name: input.name, passwordHash, institutionId: input.institutionId, lang: input.lang, emailVerifiedAt: null, disabledAt: null }, { transaction: t });
    await UserRole.create({ userId: user.id, role: 'applicant', provinceCode: null, institutionId: null, scopeKey: '', grantedBy: null }, { transaction: t });
    const token = randomBytes(32).toString('base64url');
    await AccountToken.create({ userId: user.id, purpose: 'verify', tokenHash: sha256(token), expiresAt: new Date(Date.now() + TOKEN_TTL_MS.verify), usedAt: null }, { transaction: t });
    await audit(t, { ...ctx, actorId: ctx.actorId ?? user.id }, { action: 'user.register', entityType: 'user', entityId: user.id, after: { email, name: input.name, institutionId: input.institutionId, role: 'applicant' } });
    await queueMail(t, { to: { address: email, name: input.name }, template: 'verify-email', lang: input.lang, data: { name: input.name, verifyUrl: `${links.baseUrl}/verify/${token}` } });
  });
}

/** Spend a mailed token: returns the user id when it is valid, unused and unexpired. */
async function spendToken(t: import('sequelize').Transaction, token: string, purpose: 'verify' | 'reset'): Promise<number | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const row = await AccountToken.findOne({ where: { tokenHash: sha256(token), purpose }, transaction: t, lock: t.LOCK.UPDATE });
  if (!row || row.usedAt || row.expiresAt.getTime() <= Date.now()) return null;
  const [n] = await AccountToken.update({ usedAt: new Date() }, { where: { id: row.id, usedAt: { [Op.is]: null } }, transaction: t });
  return n === 1 ? row.userId : null;
}

export async function verifyEmail(sequelize: Sequelize, ctx: AuditContext, token: string): Promise<number | null> {
  return withTransaction(sequelize, async (t) => {
    const userId = await spendToken(t, token, 'verify');
    if (!userId) return null;
    await User.update({ emailVerifiedAt: new Date() }, { where: { id: userId }, transaction: t });
    await audit(t, { ...ctx, actorId: userId }, { action: 'user.verify_email', entityType: 'user', entityId: userId });
    return userId;
  });
}

/** Queue a reset link if the address has an account; the caller shows the same answer either way. */
export async function requestPasswordReset(sequelize: Sequelize, ctx: AuditContext, links: MailLinks, rawEmail: string): Promise<void> {
  const email = normaliseEmail(rawEmail);
  await withTransaction(sequelize, async (t) => {
    const user = await User.findOne({ where: { email }, transaction: t });
    if (!user || user.disabledAt) return;
    const token = randomBytes(32).toString('base64url');
    await AccountToken.create({ userId: user.id, purpose: 'reset', tokenHash: sha256(token), expiresAt: new Date(Date.now() + TOKEN_TTL_MS.reset), usedAt: null }, { transaction: t });
    await audit(t, ctx, { action: 'user.password_reset_requested', entityType: 'user', entityId: user.id });
    await queueMail(t, { to: { address: user.email, name: user.name }, template: 'password-reset', lang: user.lang, data: { name: user.name, resetUrl: `${links.baseUrl}/password/reset/${token}`, minutes: TOKEN_TTL_MS.reset / 60_000 } });
  });
}

export async function tokenIsUsable(token: string, purpose: 'verify' | 'reset'): Promise<boolean> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return false;
  const row = await AccountToken.findOne({ where: { tokenHash: sha256(token), purpose } });
  return !!row && !row.usedAt && row.expiresAt.getTime() > Date.now();
}

/** Set a new password with a reset token; ends every session of the user. */
export async function resetPassword(sequelize: Sequelize, ctx: AuditContext, token: string, password: string): Promise<number | null> {
  const passwordHash = await hashPassword(password);
  return withTransaction(sequelize, async (t) => {
    const userId = await spendToken(t, token, 'reset');
    if (!userId) return null;
    // A mailed link proves the address too.
    const user = (await User.findByPk(userId, { transaction: t }))!;
    await user.update({ passwordHash, emailVerifiedAt: user.emailVerifiedAt ?? new Date() }, { transaction: t });
    await AccountToken.update({ usedAt: new Date() }, { where: { userId, purpose: 'reset', usedAt: { [Op.is]: null } }, transaction: t });
    await destroyUserSessions(sequelize, userId, { transaction: t });
    await audit(t, { ...ctx, actorId: ctx.actorId ?? userId }, { action: 'user.password_reset', entityType: 'user', entityId: userId });
    return userId;
  });
}

export type ChangeResult = { ok: true } | { ok: false; field: string; error: string };

/** Change the password: asks for the current one; other sessions end. */
export async function changePassword(sequelize: Sequelize, ctx: AuditContext, userId: number, sid: string, current: string, next: string): Promise<ChangeResult> {
  const user = await User.findByPk(userId);
  if (!user || !(await verifyPassword(user.passwordHash, current))) return { ok: false, field: 'currentPassword', error: 'people:account.errors.currentPasswordWrong' };
  const passwordHash = await hashPassword(next);
  await withTransaction(sequelize, async (t) => {
    await User.update({ passwordHash }, { where: { id: userId }, transaction: t });
    await destroyUserSessions(sequelize, userId, { transaction: t, exceptSid: sid });
    await audit(t, ctx, { action: 'user.password_change', entityType: 'user', entityId: userId });
  });
  return { ok: true };
}

export async function updateProfile(sequelize: Sequelize, ctx: AuditContext, userId: number, input: { name: string; lang: string; institutionId: number | null }): Promise<void> {
  await withTransaction(sequelize, async (t) => {
    const user = await User.findByPk(userId, { transaction: t, lock: t.LOCK.UPDATE });
    if (!user) return;
    const before = { name: user.name, lang: user.lang, institutionId: user.institutionId };
    await user.update(input, { transaction: t });
    await patchUserSessions(sequelize, userId, input, t);
    await audit(t, ctx, { action: 'user.update_profile', entityType: 'user', entityId: userId, before, after: input });
  });
}

/** How long an invitation's password-set link stays valid. */
export const INVITE_TTL_MS = 7 * 24 * 3600_000;

/**
 * Inside the caller's transaction: a single-use link token for an invited account (experts imported by an
 * officer) to set its password at /password/reset/<token> — the reset mechanics, with a longer lifetime.
 * Setting the password also confirms the address. Returns the token for the mail; only its hash is stored.
 */
export async function createInviteToken(t: import('sequelize').Transaction, userId: number, ttlMs = INVITE_TTL_MS): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await AccountToken.create({ userId, purpose: 'reset', tokenHash: sha256(token), expiresAt: new Date(Date.now() + ttlMs), usedAt: null }, { transaction: t });
  return token;
}
