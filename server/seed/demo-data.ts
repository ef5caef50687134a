/**
 * Inputs of the demo proposals: a seeded PRNG (the demo is the same on every machine), an RFC 4180 CSV reader,
 * the NSFC project titles of data/nsfc-projects.csv, and the fixed texts of the demo call.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../config.js';
import { parseCsv } from '../platform/csv.js';

/** mulberry32: a tiny deterministic PRNG in [0, 1). */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface NsfcProject {
  category: string;
  title: string;
  institution: string;
  amountWan: number;
}

export function readNsfcProjects(): NsfcProject[] {
  const [header, ...rows] = parseCsv(readFileSync(path.join(ROOT, 'data', 'nsfc-projects.csv'), 'utf8').replace(/^\uFEFF/, ''), { skipBlankLines: true });
  const col = (name: string) => header!.indexOf(name);
  const [c, t, i, a] = [col('category'), col('title'), col('institution'), col('amount_wan')];
  return rows.filter((r) => r[t]?.trim() && r[i]?.trim()).map((r) => ({ category: r[c] ?? '', title: r[t]!.trim(), institution: r[i]!.trim(), amountWan: Number(r[a]) || 0 }));
}

export const DEMO_PROGRAMME = { nameZh: '长三角科技创新共同体联合攻关计划', nameEn: 'YRD S&T Innovation Community Joint Research Programme' };

export const DEMO_CALL = {
  titleZh: '2027年度长三角科技创新共同体联合攻关计划项目申报指南',
  titleEn: 'YRD Joint Research Programme — 2027 call for joint proposals',
  bodyZh:
    '为落实《长三角科技创新共同体建设发展规划》，上海市、江苏省、浙江省、安徽省科技厅（委）联合发布本年度联合攻关计划项目申报指南。' +
    '项目须由至少两个省市的单位联合申报，牵头单位所在省市与合作单位所在省市按“各省出资、各自拨付”的方式分别资助本省市单位。' +
    '申报书经牵头单位科研管理部门审核后提交，各省市项目主管开展形式审查，通过后进入专家评审。',
  bodyEn:
    'Shanghai, Jiangsu, Zhejiang and Anhui jointly call for proposals from consortia spanning at least two provinces. ' +
    "Each province funds its own institutions (virtual common pot). Proposals are endorsed by the lead institution's research office, " +
    'screened by the provinces’ programme officers, then reviewed by experts from the shared pool.',
};

export const DEMO_TOPICS = [
  { code: 'T01', titleZh: '区域协同创新治理与政策', titleEn: 'Governance and policy of regional collaborative innovation', keywords: ['协同创新', '区域治理', '创新政策'] },
  { code: 'T02', titleZh: '数字经济与智能决策', titleEn: 'Digital economy and intelligent decision-making', keywords: ['数字经济', '人工智能', '决策优化'] },
  { code: 'T03', titleZh: '绿色低碳与可持续发展', titleEn: 'Green, low-carbon and sustainable development', keywords: ['低碳', '环境治理', '可持续发展'] },
  { code: 'T04', titleZh: '金融创新与风险管理', titleEn: 'Financial innovation and risk management', keywords: ['金融科技', '风险管理', '资本市场'] },
  { code: 'T05', titleZh: '公共卫生与健康管理', titleEn: 'Public health and health management', keywords: ['公共卫生', '健康管理', '医疗服务'] },
];

export const DEMO_CRITERIA = [
  { nameZh: '创新性与科学价值', nameEn: 'Novelty and scientific value', weight: 30 },
  { nameZh: '研究方案可行性', nameEn: 'Feasibility of the research plan', weight: 25 },
  { nameZh: '跨省市协同攻关', nameEn: 'Cross-province collaboration', weight: 25 },
  { nameZh: '团队与条件保障', nameEn: 'Team and resources', weight: 20 },
];

/** Pledges per province, in 万元. */
export const DEMO_PLEDGES_WAN: Record<string, number> = { SH: 8000, JS: 6000, ZJ: 6000, AH: 4000 };

export const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤';
export const GIVEN = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华文玲建国红梅鹏飞宇晨浩然思远嘉怡子涵欣雨泽楠博文凯悦晓东海燕志强春梅';

/** Officers' reasons for an ineligible decision, by the rule the proposal fails (data, in the officers' language). */
export const INELIGIBLE_REASONS: Record<string, string> = {
  maxTotalRequest: '申请资助总额超过指南规定上限，不符合申报要求。',
  maxPerPartner: '单个单位申请资助额超过指南规定上限。',
  duration: '项目执行期超出指南规定范围。',
  enterpriseSelfFunding: '企业合作单位自筹配套经费不足申请资助额的100%。',
  piLimit: '项目负责人在本指南下的有效申报超过限项规定。',
  other: '联合申报协议缺少合作单位盖章页，材料不完整。',
};
