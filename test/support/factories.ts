/** Factories: valid records with sensible defaults; override what the test is about. */
import { Institution, User, UserRole } from '../../server/people/models.js';
import { roleScopeKey, syntheticCreditCode, type InstitutionType, type RoleGrant } from '../../server/people/rules.js';
import { hashPassword } from '../../server/platform/passwords.js';

let seq = 0;
const next = () => ++seq + Math.floor(Math.random() * 1e6) * 1000;

export const PASSWORD = 'correct-horse-battery';
let hashed: Promise<string> | null = null;
/** Hash once per run: argon2 is deliberately slow. */
export const passwordHash = () => (hashed ??= hashPassword(PASSWORD));

export async function makeInstitution(o: Partial<{ nameZh: string; nameEn: string | null; provinceCode: string; type: InstitutionType; creditCode: string }> = {}) {
  const n = next();
  return Institution.create({
    nameZh: o.nameZh ?? `测试大学${n}`,
    nameEn: o.nameEn ?? `Test University ${n}`,
    provinceCode: o.provinceCode ?? 'SH',
    type: o.type ?? 'university',
    creditCode: o.creditCode ?? syntheticCreditCode(n),
  });
}

export async function makeUser(o: Partial<{ email: string; name: string; roles: RoleGrant[]; institutionId: number | null; verified: boolean; disabled: boolean; lang: string }> = {}) {
  const n = next();
  const user = await User.create({
    email: o.email ?? `user${n}@example.org`,
    name: o.name ?? `用户${n}`,
    passwordHash: await passwordHash(),
    institutionId: o.institutionId ?? null,
    lang: o.lang ?? 'zh-CN',
    emailVerifiedAt: o.verified === false ? null : new Date(),
    disabledAt: o.disabled ? new Date() : null,
  });
  for (const g of o.roles ?? [{ role: 'applicant' as const }]) {
    await UserRole.create({ userId: user.id, role: g.role, provinceCode: g.provinceCode ?? null, institutionId: g.institutionId ?? null, scopeKey: roleScopeKey(g), grantedBy: null });
  }
  return user;
}
