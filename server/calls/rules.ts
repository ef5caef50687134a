/**
 * Pure rules of calls (指南): lifecycle, default settings, the submission window. No Express, no Sequelize.
 */
import type { InstitutionType } from '../people/rules.js';

export const CALL_STATUSES = ['draft', 'published', 'closed', 'in_review', 'decided', 'archived'] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

/** The allowed lifecycle transitions, in one place. */
export const CALL_TRANSITIONS: Record<CallStatus, readonly CallStatus[]> = {
  draft: ['published'],
  published: ['closed'],
  closed: ['in_review'],
  in_review: ['decided'],
  decided: ['archived'],
  archived: [],
};

export function canTransition(from: CallStatus, to: CallStatus): boolean {
  return CALL_TRANSITIONS[from].includes(to);
}

export const FUNDING_MODES = ['virtual', 'real', 'mixed'] as const;
export type FundingMode = (typeof FUNDING_MODES)[number];

export interface EligibilityRules {
  /** Distinct provinces among the consortium's institutions (lead included). */
  minProvinces: number;
  /** Institutions in the consortium, lead included. */
  minPartners: number;
  maxPartners: number;
  /** Limits on requested public money, in fen; null = no limit. */
  maxTotalRequestFen: number | null;
  maxPerPartnerFen: number | null;
  minDurationMonths: number;
  maxDurationMonths: number;
  /** Institution types allowed to lead; empty = any. */
  leadInstitutionTypes: InstitutionType[];
  /** Enterprise partners must self-fund at least this percentage of what they request (100 = 1:1); 0 = no rule. */
  minEnterpriseSelfFundingPct: number;
  /** Active (submitted, not withdrawn) proposals a PI may have in one call (限项). */
  maxActivePerPi: number;
}

export const DEFAULT_RULES: EligibilityRules = {
  minProvinces: 2,
  minPartners: 2,
  maxPartners: 10,
  maxTotalRequestFen: null,
  maxPerPartnerFen: null,
  minDurationMonths: 12,
  maxDurationMonths: 48,
  leadInstitutionTypes: [],
  minEnterpriseSelfFundingPct: 0,
  maxActivePerPi: 1,
};

export interface BudgetCategory {
  code: string;
  nameZh: string;
  nameEn: string;
}

export const DEFAULT_BUDGET_CATEGORIES: BudgetCategory[] = [
  { code: 'equipment', nameZh: '设备费', nameEn: 'Equipment' },
  { code: 'materials', nameZh: '材料费', nameEn: 'Materials' },
  { code: 'testing', nameZh: '测试化验加工费', nameEn: 'Testing and processing' },
  { code: 'travel', nameZh: '差旅/会议/国际合作交流费', nameEn: 'Travel, meetings and exchange' },
  { code: 'publication', nameZh: '出版/文献/信息传播/知识产权事务费', nameEn: 'Publication, literature and IP' },
  { code: 'labour', nameZh: '劳务费', nameEn: 'Labour' },
  { code: 'consulting', nameZh: '专家咨询费', nameEn: 'Expert consulting' },
  { code: 'other', nameZh: '其他支出', nameEn: 'Other' },
  { code: 'indirect', nameZh: '间接费用', nameEn: 'Indirect costs' },
];

export const FILE_TYPES = ['pdf', 'docx', 'xlsx'] as const;
export type FileType = (typeof FILE_TYPES)[number];

export interface AttachmentKind {
  code: string;
  nameZh: string;
  nameEn: string;
  required: boolean;
  types: FileType[];
  maxBytes: number;
}

export const DEFAULT_ATTACHMENT_KINDS: AttachmentKind[] = [
  { code: 'application', nameZh: '申报书正文', nameEn: 'Proposal document', required: true, types: ['pdf', 'docx'], maxBytes: 20 * 1024 * 1024 },
  { code: 'agreement', nameZh: '联合申报协议', nameEn: 'Consortium agreement', required: true, types: ['pdf'], maxBytes: 10 * 1024 * 1024 },
  { code: 'budget_sheet', nameZh: '预算明细表', nameEn: 'Budget sheet', required: false, types: ['xlsx', 'pdf'], maxBytes: 10 * 1024 * 1024 },
  { code: 'other', nameZh: '其他附件', nameEn: 'Other', required: false, types: ['pdf', 'docx', 'xlsx'], maxBytes: 20 * 1024 * 1024 },
];

export interface SubmissionWindow {
  status: CallStatus;
  opensAt: Date | null;
  deadlineAt: Date | null;
}

export type WindowState = 'notPublished' | 'notOpenYet' | 'open' | 'closed';

/**
 * Whether the call accepts submissions at `now` (server time). The deadline is inclusive to the second:
 * a submission stamped at the deadline itself is accepted, one second later it is not.
 */
export function submissionWindow(c: SubmissionWindow, now: Date): WindowState {
  if (c.status !== 'published' || !c.deadlineAt) return c.status === 'draft' ? 'notPublished' : 'closed';
  if (c.opensAt && now.getTime() < c.opensAt.getTime()) return 'notOpenYet';
  return Math.floor(now.getTime() / 1000) <= Math.floor(c.deadlineAt.getTime() / 1000) ? 'open' : 'closed';
}

/** Problems that keep a draft call from being published (i18n keys under calls:publish.problems). */
export function publishProblems(c: {
  deadlineAt: Date | null;
  opensAt: Date | null;
  topics: number;
  criteriaWeights: number[];
  pledgedProvinces: number;
  now: Date;
}): string[] {
  const p: string[] = [];
  if (!c.deadlineAt) p.push('noDeadline');
  else if (c.deadlineAt.getTime() <= c.now.getTime()) p.push('deadlinePassed');
  if (c.opensAt && c.deadlineAt && c.opensAt.getTime() >= c.deadlineAt.getTime()) p.push('opensAfterDeadline');
  if (c.topics === 0) p.push('noTopics');
  if (c.criteriaWeights.length === 0) p.push('noCriteria');
  else if (c.criteriaWeights.reduce((a, b) => a + b, 0) !== 100) p.push('weightsNot100');
  if (c.pledgedProvinces === 0) p.push('noPledges');
  return p;
}
