/**
 * The demo expert pool, seeded inside the demo seed's transaction: ~200 experts spread over the four provinces
 * (50 each), at registry institutions, with NSFC-style management-science discipline codes (G01–G04) and
 * keywords drawn from the titles of data/nsfc-projects.csv at their institution; the demo expert
 * expert@demo.yrd gets a profile too; and one integrity sanction in force (on one demo expert, recorded by
 * Shanghai). Deterministic (seeded PRNG) and fast (bulk inserts).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Op, type Transaction } from 'sequelize';
import { ROOT } from '../config.js';
import { audit, SYSTEM } from '../platform/audit.js';
import { byChineseName } from '../platform/i18n.js';
import { Institution, User, UserRole } from '../people/models.js';
import { GIVEN, prng, readNsfcProjects, SURNAMES } from '../seed/demo-data.js';
import { IntegritySanction } from '../integrity/models.js';
import { endAfterLastDay, shanghaiDay, shanghaiDayStart } from '../integrity/rules.js';
import { ExpertDiscipline, ExpertProfile } from './models.js';
import { joinKeywords } from './experts-rules.js';

export const DEMO_EXPERTS_PER_PROVINCE = 50;
export const DEMO_EXPERT_EMAIL = (n: number) => `expert${String(n).padStart(3, '0')}@demo.yrd`;

/** Keywords found in NSFC management-science titles, with the discipline group they suggest (G01–G04). */
const VOCABULARY: Array<[string, 1 | 2 | 3 | 4]> = [
  ['决策', 1], ['优化', 1], ['供应链', 1], ['物流', 1], ['博弈', 1], ['信息系统', 1], ['风险', 1], ['运营', 1], ['调度', 1], ['预测', 1], ['电子商务', 1], ['大数据', 1], ['算法', 1], ['评价', 1],
  ['企业', 2], ['创新', 2], ['营销', 2], ['组织', 2], ['绩效', 2], ['领导', 2], ['战略', 2], ['创业', 2], ['人力资源', 2], ['知识', 2], ['服务', 2], ['消费者', 2], ['品牌', 2], ['公司治理', 2],
  ['经济', 3], ['金融', 3], ['市场', 3], ['产业', 3], ['贸易', 3], ['投资', 3], ['价格', 3], ['资本', 3], ['银行', 3], ['货币', 3], ['增长', 3], ['税收', 3],
  ['政策', 4], ['治理', 4], ['公共', 4], ['医疗', 4], ['健康', 4], ['环境', 4], ['区域', 4], ['城市', 4], ['能源', 4], ['低碳', 4], ['教育', 4], ['农村', 4], ['科技', 4],
];
const TITLES = ['教授', '研究员', '副教授', '副研究员', '正高级工程师', '高级工程师', '主任医师'];

const DAY = 86_400_000;

/** Seed the demo experts; returns how many pool experts were made (0 when already there). */
export async function seedDemoExperts(t: Transaction, o: { passwordHash: string; now?: Date }): Promise<number> {
  if ((await User.count({ where: { email: DEMO_EXPERT_EMAIL(1) }, transaction: t })) > 0) return 0;
  const rand = prng(20_261_125);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const now = o.now ?? new Date();

  const institutions = await Institution.findAll({ attributes: ['id', 'nameZh', 'provinceCode'], order: [['id', 'ASC']], raw: true, transaction: t });
  const provinces = [...new Set(institutions.map((i) => i.provinceCode))].sort();
  if (!provinces.length) return 0;

  // Keywords each institution's NSFC titles use (the vocabulary entries that occur in them), most frequent first.
  const hits = new Map<string, Map<string, number>>();
  if (existsSync(path.join(ROOT, 'data', 'nsfc-projects.csv'))) {
    for (const p of readNsfcProjects()) {
      const m = hits.get(p.institution) ?? new Map<string, number>();
      for (const [k] of VOCABULARY) if (p.title.includes(k)) m.set(k, (m.get(k) ?? 0) + 1);
      hits.set(p.institution, m);
    }
  }
  const groupOf = new Map(VOCABULARY);
  const keywordsAt = (institution: string): string[] => {
    const found = [...(hits.get(institution) ?? new Map<string, number>()).entries()].sort((a, b) => b[1] - a[1] || byChineseName(a[0], b[0])).map(([k]) => k);
    const pool = found.length >= 3 ? found.slice(0, 12) : VOCABULARY.map(([k]) => k);
    const n = between(3, 6);
    const out: string[] = [];
    for (let i = 0; i < 30 && out.length < n; i++) {
      const k = pick(pool);
      if (!out.includes(k)) out.push(k);
    }
    return out;
  };
  const disciplinesFor = (keywords: string[]): string[] => {
    const groups = [...new Set(keywords.map((k) => groupOf.get(k)!))].slice(0, 3);
    return groups.map((g) => `G0${g}${String(between(1, 6)).padStart(2, '0')}`);
  };

  interface Seeded {
    email: string;
    name: string;
    institutionId: number;
    title: string;
    keywords: string[];
    disciplines: string[];
    available: boolean;
    maxLoad: number;
  }
  const experts: Seeded[] = [];
  let n = 0;
  for (const province of provinces) {
    const local = institutions.filter((i) => i.provinceCode === province);
    const withTitles = local.filter((i) => hits.has(i.nameZh));
    const choices = withTitles.length ? withTitles : local;
    for (let k = 0; k < DEMO_EXPERTS_PER_PROVINCE; k++) {
      const inst = pick(choices);
      const keywords = keywordsAt(inst.nameZh);
      n++;
      experts.push({
        email: DEMO_EXPERT_EMAIL(n),
        name: pick([...SURNAMES]) + pick([...GIVEN]) + (rand() < 0.6 ? pick([...GIVEN]) : ''),
        institutionId: inst.id,
        title: pick(TITLES),
        keywords,
        disciplines: disciplinesFor(keywords),
        available: rand() >= 0.1,
        maxLoad: between(3, 8),
      });
    }
  }

  await User.bulkCreate(
    experts.map((e) => ({ email: e.email, name: e.name, passwordHash: o.passwordHash, institutionId: e.institutionId, lang: 'zh-CN', emailVerifiedAt: now, disabledAt: null })),
    { transaction: t },
  );
  const ids = new Map(
    (await User.findAll({ where: { email: { [Op.in]: [...experts.map((e) => e.email), 'expert@demo.yrd', 'officer.sh@demo.yrd'] } }, attributes: ['id', 'email'], raw: true, transaction: t })).map((u) => [u.email, u.id]),
  );
  const demoExpert = ids.get('expert@demo.yrd');
  const all = [...experts.map((e) => ({ ...e, userId: ids.get(e.email)! }))];
  if (demoExpert) all.push({ email: 'expert@demo.yrd', name: '', institutionId: 0, title: '教授', keywords: ['数字经济', '决策优化', '供应链', '区域创新'], disciplines: ['G0101', 'G0202'], available: true, maxLoad: 6, userId: demoExpert });
  await UserRole.bulkCreate(
    experts.map((e) => ({ userId: ids.get(e.email)!, role: 'expert' as const, provinceCode: null, institutionId: null, scopeKey: '', grantedBy: null })),
    { transaction: t },
  );
  await ExpertProfile.bulkCreate(
    all.map((e) => ({ userId: e.userId, title: e.title, keywords: joinKeywords(e.keywords), bio: null, available: e.available, maxLoad: e.maxLoad })),
    { transaction: t },
  );
  await ExpertDiscipline.bulkCreate(
    all.flatMap((e) => e.disciplines.map((code, i) => ({ userId: e.userId, code, sortOrder: i }))),
    { transaction: t },
  );

  // One sanction in force: the seventh demo expert, recorded by Shanghai, from 60 days ago for two years.
  const sanctioned = experts[6];
  if (sanctioned && provinces.includes('SH')) {
    const startDay = shanghaiDay(new Date(now.getTime() - 60 * DAY));
    const lastDay = shanghaiDay(new Date(now.getTime() + 730 * DAY));
    const row = await IntegritySanction.create(
      {
        subjectType: 'person',
        subjectUserId: ids.get(sanctioned.email)!,
        subjectInstitutionId: null,
        subjectCreditCode: null,
        subjectName: sanctioned.name,
        provinceCode: 'SH',
        reason: '在承担的科研项目中存在抄袭、剽窃他人研究成果的行为，经调查属实。',
        legalBasis: '《科研失信行为调查处理规则》（国科发监〔2022〕221号）第二十八条',
        startsAt: shanghaiDayStart(startDay)!,
        endsAt: endAfterLastDay(lastDay),
        createdBy: ids.get('officer.sh@demo.yrd') ?? null,
        updatedBy: ids.get('officer.sh@demo.yrd') ?? null,
      },
      { transaction: t },
    );
    await audit(t, SYSTEM, { action: 'integrity.create', entityType: 'integrity_sanction', entityId: row.id, after: { subjectUserId: row.subjectUserId, provinceCode: 'SH', startDay, lastDay } });
  }
  await audit(t, SYSTEM, { action: 'seed.demo_experts', entityType: 'platform', after: { experts: experts.length, provinces: provinces.length } });
  return experts.length;
}
