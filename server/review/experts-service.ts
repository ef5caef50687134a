/**
 * The shared expert pool (专家库): the officers' list and an expert's page, the expert's own profile, and the
 * import of experts from a spreadsheet — validated row by row first, then written whole in ONE transaction
 * (accounts, roles, profiles, invitation mails in the outbox, audit events) or not at all.
 */
import { randomBytes } from 'node:crypto';
import { Op, QueryTypes, UniqueConstraintError, type Sequelize, type Transaction } from 'sequelize';
import { audit, type AuditContext } from '../platform/audit.js';
import { withTransaction } from '../platform/db.js';
import { isValidAddress, queueMail } from '../platform/mail/outbox.js';
import { hashPassword } from '../platform/passwords.js';
import { destroyUserSessions } from '../platform/session-store.js';
import { createInviteToken, INVITE_TTL_MS } from '../people/account-service.js';
import { containsPattern, PAGE_SIZE } from '../people/institution-service.js';
import { Institution, User, UserRole } from '../people/models.js';
import { normaliseEmail } from '../people/rules.js';
import { activeSanctionsFor, sanctionedUserIds, type ActiveSanction } from '../integrity/checks.js';
import { ExpertDiscipline, ExpertProfile } from './models.js';
import { joinKeywords, LOAD_RANGE, mapHeader, parseKeywords, validateImport, type ImportProblem, type ImportRow } from './experts-rules.js';
import type { ExpertProfileInput, ExpertSearch } from './experts-schema.js';

export interface MailLinks {
  baseUrl: string;
}

// ---- list and detail ------------------------------------------------------------------------------------

export interface ExpertRow {
  id: number;
  name: string;
  email: string;
  verified: boolean;
  disabled: boolean;
  institutionZh: string | null;
  institutionEn: string | null;
  provinceCode: string | null;
  hasProfile: boolean;
  title: string | null;
  keywords: string[];
  available: boolean;
  maxLoad: number | null;
  disciplines: string[];
  sanctioned: boolean;
}

const bool = (v: unknown) => v === true || Number(v) === 1;

/** Users holding the expert role, with search (name, e-mail, title, keywords), discipline (code prefix), province. */
export async function searchExperts(sequelize: Sequelize, f: ExpertSearch, pageSize = PAGE_SIZE, onlyUserId?: number): Promise<{ rows: ExpertRow[]; count: number }> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (onlyUserId !== undefined) where.push('u.id = ?'), params.push(onlyUserId);
  if (f.q) {
    const like = containsPattern(f.q);
    where.push("(u.name LIKE ? ESCAPE '!' OR u.email LIKE ? ESCAPE '!' OR ep.title LIKE ? ESCAPE '!' OR ep.keywords LIKE ? ESCAPE '!')");
    params.push(like, like, like, like);
  }
  if (f.discipline) where.push('EXISTS (SELECT 1 FROM expert_disciplines d WHERE d.user_id = u.id AND d.code LIKE ?)'), params.push(`${f.discipline}%`);
  if (f.province) where.push('i.province_code = ?'), params.push(f.province);
  if (f.available) where.push('ep.available = ?'), params.push(true);
  const from = `FROM users u
       JOIN user_roles r ON r.user_id = u.id AND r.role = 'expert'
       LEFT JOIN expert_profiles ep ON ep.user_id = u.id
       LEFT JOIN institutions i ON i.id = u.institution_id
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
  const [counted] = await sequelize.query<{ n: number | string }>(`SELECT COUNT(*) AS n ${from}`, { replacements: params, type: QueryTypes.SELECT });
  const rows = await sequelize.query<Record<string, unknown>>(
    `SELECT u.id, u.name, u.email, u.email_verified_at AS verifiedAt, u.disabled_at AS disabledAt,
            i.name_zh AS institutionZh, i.name_en AS institutionEn, i.province_code AS provinceCode,
            ep.id AS profileId, ep.title, ep.keywords, ep.available, ep.max_load AS maxLoad
       ${from}
      ORDER BY u.name, u.id
      LIMIT ? OFFSET ?`,
    { replacements: [...params, pageSize, (f.page - 1) * pageSize], type: QueryTypes.SELECT },
  );
  const ids = rows.map((r) => Number(r.id));
  const [disciplines, sanctioned] = await Promise.all([disciplinesOf(ids), sanctionedUserIds(ids)]);
  return {
    rows: rows.map((r) => ({
      id: Number(r.id),
      name: String(r.name),
      email: String(r.email),
      verified: !!r.verifiedAt,
      disabled: !!r.disabledAt,
      institutionZh: (r.institutionZh as string | null) ?? null,
      institutionEn: (r.institutionEn as string | null) ?? null,
      provinceCode: (r.provinceCode as string | null) ?? null,
      hasProfile: r.profileId !== null && r.profileId !== undefined,
      title: (r.title as string | null) ?? null,
      keywords: parseKeywords(String(r.keywords ?? '')),
      available: r.profileId ? bool(r.available) : false,
      maxLoad: r.maxLoad === null || r.maxLoad === undefined ? null : Number(r.maxLoad),
      disciplines: disciplines.get(Number(r.id)) ?? [],
      sanctioned: sanctioned.has(Number(r.id)),
    })),
    count: Number(counted?.n ?? 0),
  };
}

async function disciplinesOf(userIds: number[], transaction?: Transaction): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  if (!userIds.length) return out;
  const rows = await ExpertDiscipline.findAll({ where: { userId: { [Op.in]: userIds } }, order: [['userId', 'ASC'], ['sortOrder', 'ASC'], ['id', 'ASC']], raw: true, transaction });
  for (const r of rows) out.set(r.userId, [...(out.get(r.userId) ?? []), r.code]);
  return out;
}

export interface ExpertDetail extends ExpertRow {
  bio: string | null;
  updatedAt: Date | null;
  sanctions: ActiveSanction[];
}

/** One expert of the pool (null when the user is not an expert). */
export async function expertDetail(sequelize: Sequelize, userId: number, now = new Date()): Promise<ExpertDetail | null> {
  const { rows } = await searchExperts(sequelize, { q: '', discipline: '', province: '', available: '', page: 1 }, 1, userId);
  const row = rows[0];
  if (!row) return null;
  const profile = await ExpertProfile.findOne({ where: { userId }, attributes: ['bio', 'updatedAt'], raw: true });
  return { ...row, bio: profile?.bio ?? null, updatedAt: profile?.updatedAt ? new Date(profile.updatedAt) : null, sanctions: await activeSanctionsFor({ userIds: [userId] }, now) };
}

// ---- the expert's own profile ---------------------------------------------------------------------------

export interface OwnProfile {
  exists: boolean;
  values: { title: string; disciplines: string; keywords: string; bio: string; available: boolean; maxLoad: string };
  institutionZh: string | null;
  institutionEn: string | null;
  provinceCode: string | null;
  updatedAt: Date | null;
}

export async function ownProfile(userId: number): Promise<OwnProfile> {
  const [user, profile, disciplines] = await Promise.all([
    User.findByPk(userId, { attributes: ['institutionId'], raw: true }),
    ExpertProfile.findOne({ where: { userId }, raw: true }),
    disciplinesOf([userId]),
  ]);
  const inst = user?.institutionId ? await Institution.findByPk(user.institutionId, { attributes: ['nameZh', 'nameEn', 'provinceCode'], raw: true }) : null;
  return {
    exists: !!profile,
    values: {
      title: profile?.title ?? '',
      disciplines: (disciplines.get(userId) ?? []).join(', '),
      keywords: profile?.keywords ?? '',
      bio: profile?.bio ?? '',
      available: profile ? bool(profile.available) : true,
      maxLoad: String(profile?.maxLoad ?? LOAD_RANGE.default),
    },
    institutionZh: inst?.nameZh ?? null,
    institutionEn: inst?.nameEn ?? null,
    provinceCode: inst?.provinceCode ?? null,
    updatedAt: profile?.updatedAt ? new Date(profile.updatedAt) : null,
  };
}

async function setDisciplines(t: Transaction, userId: number, codes: string[]): Promise<void> {
  await ExpertDiscipline.destroy({ where: { userId }, transaction: t });
  if (codes.length) await ExpertDiscipline.bulkCreate(codes.map((code, i) => ({ userId, code, sortOrder: i })), { transaction: t });
}

/** Create or update the expert's own profile, audited with before and after. */
export async function saveOwnProfile(sequelize: Sequelize, ctx: AuditContext, userId: number, input: ExpertProfileInput): Promise<void> {
  await withTransaction(sequelize, async (t) => {
    const profile = await ExpertProfile.findOne({ where: { userId }, transaction: t, lock: t.LOCK.UPDATE });
    const before = profile
      ? { title: profile.title, keywords: profile.keywords, bio: profile.bio, available: bool(profile.available), maxLoad: profile.maxLoad, disciplines: (await disciplinesOf([userId], t)).get(userId) ?? [] }
      : null;
    const fields = { title: input.title, keywords: joinKeywords(input.keywords) || null, bio: input.bio, available: input.available, maxLoad: input.maxLoad };
    if (profile) await profile.update(fields, { transaction: t });
    else await ExpertProfile.create({ userId, ...fields }, { transaction: t });
    await setDisciplines(t, userId, input.disciplines);
    await audit(t, ctx, { action: 'expert.update_profile', entityType: 'user', entityId: userId, before, after: { ...fields, disciplines: input.disciplines } });
  });
}

// ---- import ---------------------------------------------------------------------------------------------

export interface ImportSummary {
  rows: number;
  created: number;
  rolesAdded: number;
  profilesCreated: number;
  unchanged: number;
}

export type ImportOutcome = { ok: true; summary: ImportSummary } | { ok: false; problems: ImportProblem[] };

/** Only the cells of one column (by its header), normalised: which accounts and institutions to look up. */
function columnValues(table: string[][], column: 'email' | 'creditCode'): string[] {
  const idx = mapHeader(table[0] ?? []).columns.get(column);
  if (idx === undefined) return [];
  const norm = column === 'email' ? normaliseEmail : (s: string) => s.trim().toUpperCase();
  return [...new Set(table.slice(1).map((r) => norm(r[idx] ?? '')).filter(Boolean))];
}

async function inviteMail(t: Transaction, links: MailLinks, user: { id: number; email: string; name: string; lang: string }, needsPassword: boolean) {
  const setPasswordUrl = needsPassword ? `${links.baseUrl}/password/reset/${await createInviteToken(t, user.id)}` : null;
  await queueMail(t, {
    to: { address: user.email, name: user.name },
    template: 'expert-invited',
    lang: user.lang,
    data: { name: user.name, setPasswordUrl, days: INVITE_TTL_MS / 86_400_000, profileUrl: `${links.baseUrl}/expert/profile`, loginUrl: `${links.baseUrl}/login` },
  });
}

/**
 * Import experts from a table (header row first). Every row is validated against the registry and the existing
 * accounts inside the transaction; any problem → nothing is written and every problem is returned. Otherwise,
 * in that one transaction: new e-mails get an unverified account (role expert, a random password nobody
 * knows), a profile and an invitation with a password-set link; existing accounts get the expert role (their
 * sessions end so the new role applies), a profile if they have none, and a notice.
 */
export async function importExperts(sequelize: Sequelize, ctx: AuditContext, links: MailLinks, table: string[][], fileName: string): Promise<ImportOutcome> {
  // One random password per import, hashed once (argon2 is slow by design) and thrown away: nobody knows it,
  // and the accounts cannot sign in until the invitee sets their own through the mailed link.
  const unknownPasswordHash = await hashPassword(randomBytes(32).toString('base64url'));
  const emails = columnValues(table, 'email');
  const codes = columnValues(table, 'creditCode');
  try {
    return await withTransaction(sequelize, async (t): Promise<ImportOutcome> => {
      const [institutions, users] = await Promise.all([
        codes.length ? Institution.findAll({ where: { creditCode: { [Op.in]: codes } }, attributes: ['id', 'creditCode'], raw: true, transaction: t }) : [],
        emails.length ? User.findAll({ where: { email: { [Op.in]: emails } }, transaction: t, lock: t.LOCK.UPDATE }) : [],
      ]);
      const { rows, problems } = validateImport(table, {
        institutionsByCode: new Map(institutions.map((i) => [i.creditCode.toUpperCase(), { id: i.id }])),
        usersByEmail: new Map(users.map((u) => [u.email, { id: u.id, institutionId: u.institutionId, disabled: !!u.disabledAt }])),
        validAddress: isValidAddress,
      });
      if (problems.length) return { ok: false, problems };
      const userById = new Map(users.map((u) => [u.id, u]));
      const ids = users.map((u) => u.id);
      const [roles, profiles] = await Promise.all([
        ids.length ? UserRole.findAll({ where: { userId: { [Op.in]: ids }, role: 'expert' }, attributes: ['userId'], raw: true, transaction: t }) : [],
        ids.length ? ExpertProfile.findAll({ where: { userId: { [Op.in]: ids } }, attributes: ['userId'], raw: true, transaction: t }) : [],
      ]);
      const isExpert = new Set(roles.map((r) => r.userId));
      const hasProfile = new Set(profiles.map((p) => p.userId));
      const summary: ImportSummary = { rows: rows.length, created: 0, rolesAdded: 0, profilesCreated: 0, unchanged: 0 };
      const touched: Array<{ userId: number; email: string; created: boolean; roleAdded: boolean; profileCreated: boolean }> = [];

      const createProfile = async (userId: number, r: ImportRow) => {
        await ExpertProfile.create({ userId, title: r.title, keywords: joinKeywords(r.keywords) || null, bio: null, available: true, maxLoad: r.maxLoad }, { transaction: t });
        await setDisciplines(t, userId, r.disciplines);
      };

      for (const r of rows) {
        const existing = r.existingUserId ? userById.get(r.existingUserId) : undefined;
        if (!existing) {
          const user = await User.create(
            { email: r.email, name: r.name, passwordHash: unknownPasswordHash, institutionId: r.institutionId, lang: 'zh-CN', emailVerifiedAt: null, disabledAt: null },
            { transaction: t },
          );
          await UserRole.create({ userId: user.id, role: 'expert', provinceCode: null, institutionId: null, scopeKey: '', grantedBy: ctx.actorId }, { transaction: t });
          await createProfile(user.id, r);
          await inviteMail(t, links, user, true);
          summary.created++, summary.rolesAdded++, summary.profilesCreated++;
          touched.push({ userId: user.id, email: r.email, created: true, roleAdded: true, profileCreated: true });
          continue;
        }
        const roleAdded = !isExpert.has(existing.id);
        const profileCreated = !hasProfile.has(existing.id);
        if (existing.institutionId === null) await existing.update({ institutionId: r.institutionId }, { transaction: t });
        if (roleAdded) {
          await UserRole.create({ userId: existing.id, role: 'expert', provinceCode: null, institutionId: null, scopeKey: '', grantedBy: ctx.actorId }, { transaction: t });
          await destroyUserSessions(sequelize, existing.id, { transaction: t });
          await inviteMail(t, links, existing, !existing.emailVerifiedAt);
          summary.rolesAdded++;
        }
        if (profileCreated) await createProfile(existing.id, r), summary.profilesCreated++;
        if (!roleAdded && !profileCreated) summary.unchanged++;
        else touched.push({ userId: existing.id, email: existing.email, created: false, roleAdded, profileCreated });
      }
      for (const x of touched) {
        await audit(t, ctx, { action: x.created ? 'expert.invite' : 'expert.add_to_pool', entityType: 'user', entityId: x.userId, after: { ...x, fileName } });
      }
      await audit(t, ctx, { action: 'expert.import', entityType: 'expert_pool', entityId: null, after: { fileName, ...summary, users: touched.map((x) => x.userId) } });
      return { ok: true, summary };
    });
  } catch (e) {
    // Someone created one of these accounts between our read and our insert: nothing was written; try again.
    if (e instanceof UniqueConstraintError) return { ok: false, problems: [{ row: 0, column: null, key: 'experts:import.errors.concurrent', value: '' }] };
    throw e;
  }
}

/** Send a fresh invitation (password-set link) to an expert who has not set a password yet. */
export async function reinviteExpert(sequelize: Sequelize, ctx: AuditContext, links: MailLinks, userId: number): Promise<'sent' | 'notFound' | 'alreadyActive'> {
  return withTransaction(sequelize, async (t) => {
    const user = await User.findByPk(userId, { transaction: t, lock: t.LOCK.UPDATE });
    const role = user ? await UserRole.findOne({ where: { userId, role: 'expert' }, attributes: ['id'], transaction: t }) : null;
    if (!user || !role || user.disabledAt) return 'notFound';
    if (user.emailVerifiedAt) return 'alreadyActive';
    await inviteMail(t, links, user, true);
    await audit(t, ctx, { action: 'expert.reinvite', entityType: 'user', entityId: userId });
    return 'sent';
  });
}
