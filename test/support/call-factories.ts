/**
 * Call factories: a published call (指南) with topics, criteria, per-province pledges, the default rules, budget
 * categories and attachment kinds, and a deadline in the future. Override what the test is about.
 */
import { Call, CallCriterion, CallPledge, CallTopic, Programme } from '../../server/calls/models.js';
import {
  DEFAULT_ATTACHMENT_KINDS,
  DEFAULT_BUDGET_CATEGORIES,
  DEFAULT_RULES,
  type AttachmentKind,
  type BudgetCategory,
  type CallStatus,
  type EligibilityRules,
  type FundingMode,
} from '../../server/calls/rules.js';

let seq = 0;
const next = () => ++seq + Math.floor(Math.random() * 1e6) * 1000;

const DAY = 24 * 3600 * 1000;

export async function makeProgramme(o: Partial<{ nameZh: string; nameEn: string | null }> = {}) {
  const n = next();
  return Programme.create({ nameZh: o.nameZh ?? `长三角联合攻关计划${n}`, nameEn: o.nameEn ?? `YRD Joint Programme ${n}` });
}

export interface CallOptions {
  programmeId: number;
  titleZh: string;
  titleEn: string | null;
  bodyZh: string;
  bodyEn: string | null;
  status: CallStatus;
  opensAt: Date | null;
  /** Default: 30 days from now. */
  deadlineAt: Date | null;
  endorsementRequired: boolean;
  endorsementDeadlineAt: Date | null;
  reviewDueAt: Date | null;
  decisionAt: Date | null;
  fundingMode: FundingMode;
  balancingPotFen: number;
  reviewersPerProposal: number;
  /** Merged over DEFAULT_RULES. */
  rules: Partial<EligibilityRules>;
  budgetCategories: BudgetCategory[];
  attachmentKinds: AttachmentKind[];
  /** Topic codes/titles; default two topics. */
  topics: Array<{ code: string; titleZh: string; titleEn?: string | null }>;
  /** Criterion weights summing to 100; default [40, 30, 30]. */
  criteria: Array<{ nameZh: string; nameEn?: string | null; weight: number; scaleMax?: number }>;
  /** Pledges per province in fen; default 1,000,000 元 for each of SH/JS/ZJ/AH. */
  pledges: Array<{ provinceCode: string; amountFen: number }>;
  createdBy: number | null;
}

/** A published call, open now (opensAt yesterday, deadline in 30 days), with topics, criteria and pledges. */
export async function makeCall(o: Partial<CallOptions> = {}) {
  const n = next();
  const now = Date.now();
  const programmeId = o.programmeId ?? (await makeProgramme()).id;
  const status = o.status ?? 'published';
  const call = await Call.create({
    programmeId,
    titleZh: o.titleZh ?? `测试指南${n}`,
    titleEn: o.titleEn === undefined ? `Test call ${n}` : o.titleEn,
    bodyZh: o.bodyZh ?? '指南正文',
    bodyEn: o.bodyEn === undefined ? 'Call text' : o.bodyEn,
    status,
    opensAt: o.opensAt === undefined ? new Date(now - DAY) : o.opensAt,
    deadlineAt: o.deadlineAt === undefined ? new Date(now + 30 * DAY) : o.deadlineAt,
    endorsementRequired: o.endorsementRequired ?? false,
    endorsementDeadlineAt: o.endorsementDeadlineAt ?? null,
    reviewDueAt: o.reviewDueAt ?? null,
    decisionAt: o.decisionAt ?? null,
    fundingMode: o.fundingMode ?? 'virtual',
    balancingPotFen: o.balancingPotFen ?? 0,
    reviewersPerProposal: o.reviewersPerProposal ?? 3,
    rulesJson: JSON.stringify({ ...DEFAULT_RULES, ...(o.rules ?? {}) }),
    budgetCategoriesJson: JSON.stringify(o.budgetCategories ?? DEFAULT_BUDGET_CATEGORIES),
    attachmentKindsJson: JSON.stringify(o.attachmentKinds ?? DEFAULT_ATTACHMENT_KINDS),
    createdBy: o.createdBy ?? null,
    publishedAt: status === 'draft' ? null : new Date(now - DAY),
  });
  const topics = o.topics ?? [
    { code: 'T1', titleZh: '集成电路', titleEn: 'Integrated circuits' },
    { code: 'T2', titleZh: '生物医药', titleEn: 'Biomedicine' },
  ];
  for (const [i, t] of topics.entries()) {
    await CallTopic.create({ callId: call.id, code: t.code, titleZh: t.titleZh, titleEn: t.titleEn ?? null, description: null, sortOrder: i });
  }
  const criteria = o.criteria ?? [
    { nameZh: '创新性', nameEn: 'Innovation', weight: 40 },
    { nameZh: '可行性', nameEn: 'Feasibility', weight: 30 },
    { nameZh: '协同性', nameEn: 'Collaboration', weight: 30 },
  ];
  for (const [i, c] of criteria.entries()) {
    await CallCriterion.create({ callId: call.id, nameZh: c.nameZh, nameEn: c.nameEn ?? null, weight: c.weight, scaleMax: c.scaleMax ?? 10, sortOrder: i });
  }
  const pledges = o.pledges ?? ['SH', 'JS', 'ZJ', 'AH'].map((provinceCode) => ({ provinceCode, amountFen: 100_000_000 }));
  for (const p of pledges) await CallPledge.create({ callId: call.id, provinceCode: p.provinceCode, amountFen: p.amountFen, enteredBy: null });
  return call;
}
