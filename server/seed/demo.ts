/**
 * The demo dataset, seeded on first start (when no province exists): the four provinces, the YRD
 * institutions from data/yrd-institutions.csv (synthetic credit codes), one demo user per role, the published call
 * with its proposals (demo-proposals.ts), the expert pool (experts-seed.ts) and a call in review (demo-review.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Sequelize } from 'sequelize';
import { ROOT } from '../config.js';
import { audit, SYSTEM } from '../platform/audit.js';
import { withTransaction } from '../platform/db.js';
import { hashPassword } from '../platform/passwords.js';
import { uploadArea } from '../platform/storage.js';
import { Institution, Province, User, UserRole } from '../people/models.js';
import { roleScopeKey, syntheticCreditCode, type InstitutionType, type RoleGrant } from '../people/rules.js';
import { seedDemoProposals } from './demo-proposals.js';
import { seedDemoExperts } from '../review/experts-seed.js';
import { seedDemoReview } from './demo-review.js';

export const PROVINCES = [
  { code: 'SH', nameZh: '上海市', nameEn: 'Shanghai', sortOrder: 1 },
  { code: 'JS', nameZh: '江苏省', nameEn: 'Jiangsu', sortOrder: 2 },
  { code: 'ZJ', nameZh: '浙江省', nameEn: 'Zhejiang', sortOrder: 3 },
  { code: 'AH', nameZh: '安徽省', nameEn: 'Anhui', sortOrder: 4 },
];

export function institutionTypeOf(name: string): InstitutionType {
  if (/医院/.test(name)) return 'hospital';
  if (/大学|学院|学校/.test(name)) return 'university';
  if (/研究所|研究院|研究中心|科学院|情报/.test(name)) return 'institute';
  if (/公司|集团|交易所|银行/.test(name)) return 'enterprise';
  return 'other';
}

export function readInstitutionsCsv(): Array<{ name: string; province: string }> {
  const lines = readFileSync(path.join(ROOT, 'data', 'yrd-institutions.csv'), 'utf8').split(/\r?\n/).slice(1);
  return lines.filter(Boolean).map((l) => {
    const [name, province] = l.split(',');
    return { name: name!.trim(), province: province!.trim() };
  });
}

interface DemoUser {
  email: string;
  name: string;
  role: string;
  institution: string;
  grants: RoleGrant[];
}

const USERS: DemoUser[] = [
  { email: 'admin@demo.yrd', name: '平台管理员', role: 'admin', institution: '上海交通大学', grants: [{ role: 'admin' }] },
  { email: 'officer.sh@demo.yrd', name: '上海项目主管', role: 'officer (SH)', institution: '上海市教育科学研究院', grants: [{ role: 'officer', provinceCode: 'SH' }] },
  { email: 'officer.js@demo.yrd', name: '江苏项目主管', role: 'officer (JS)', institution: '南京大学', grants: [{ role: 'officer', provinceCode: 'JS' }] },
  { email: 'officer.zj@demo.yrd', name: '浙江项目主管', role: 'officer (ZJ)', institution: '浙江大学', grants: [{ role: 'officer', provinceCode: 'ZJ' }] },
  { email: 'officer.ah@demo.yrd', name: '安徽项目主管', role: 'officer (AH)', institution: '中国科学技术大学', grants: [{ role: 'officer', provinceCode: 'AH' }] },
  { email: 'pi@demo.yrd', name: '张明（申请人）', role: 'applicant', institution: '复旦大学', grants: [{ role: 'applicant' }] },
  { email: 'partner@demo.yrd', name: '李华（合作单位）', role: 'applicant', institution: '南京大学', grants: [{ role: 'applicant' }] },
  { email: 'expert@demo.yrd', name: '王芳（评审专家）', role: 'expert', institution: '浙江大学', grants: [{ role: 'expert' }] },
  { email: 'office@demo.yrd', name: '复旦大学科研处', role: 'institution_admin', institution: '复旦大学', grants: [] },
];

export const DEMO_LOGINS = { password: 'yrd-demo-2026', users: USERS.map((u) => ({ email: u.email, role: u.role })) };

/** Seed once, the demo's attachment files going to `uploadDir`; returns false when the database already holds data. */
export async function seedDemo(sequelize: Sequelize, o: { uploadDir: string }): Promise<boolean> {
  if ((await Province.count()) > 0) return false;
  const passwordHash = await hashPassword(DEMO_LOGINS.password);
  const rows = readInstitutionsCsv();
  const uploads = uploadArea(o.uploadDir);
  await withTransaction(sequelize, async (t) => {
    await Province.bulkCreate(PROVINCES, { transaction: t });
    await Institution.bulkCreate(
      rows.map((r, i) => ({ nameZh: r.name, nameEn: null, provinceCode: r.province, type: institutionTypeOf(r.name), creditCode: syntheticCreditCode(i + 1, '1') })),
      { transaction: t },
    );
    const byName = new Map((await Institution.findAll({ transaction: t })).map((i) => [i.nameZh, i.id]));
    for (const u of USERS) {
      const institutionId = byName.get(u.institution) ?? null;
      const user = await User.create({ email: u.email, name: u.name, passwordHash, institutionId, lang: 'zh-CN', emailVerifiedAt: new Date(), disabledAt: null }, { transaction: t });
      const grants: RoleGrant[] = u.role === 'institution_admin' ? [{ role: 'institution_admin', institutionId }] : u.grants;
      for (const g of grants) {
        await UserRole.create({ userId: user.id, role: g.role, provinceCode: g.provinceCode ?? null, institutionId: g.institutionId ?? null, scopeKey: roleScopeKey(g), grantedBy: null }, { transaction: t });
      }
    }
    await audit(t, SYSTEM, { action: 'seed.demo', entityType: 'platform', after: { provinces: PROVINCES.length, institutions: rows.length, users: USERS.length } });
    await seedDemoProposals(t, { passwordHash, uploads });
    await seedDemoExperts(t, { passwordHash });
    await seedDemoReview(sequelize, t, { passwordHash, uploads });
  });
  return true;
}
