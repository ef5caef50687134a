/**
 * Pure rules of joint proposals: money sums, eligibility against a call's rules, the completeness checklist,
 * the proposal lifecycle. No Express, no Sequelize. Money is integer fen throughout.
 */
import type { InstitutionType } from '../people/rules.js';
import type { EligibilityRules } from '../calls/rules.js';
import { shanghaiDay } from '../platform/time.js';

export const PROPOSAL_STATUSES = ['draft', 'submitted', 'endorsed', 'eligible', 'ineligible'] as const;
export type ProposalStatus = (typeof PROPOSAL_STATUSES)[number];

/** Statuses that count as an active application for the PI limit (限项). */
export const ACTIVE_STATUSES: readonly ProposalStatus[] = ['submitted', 'endorsed', 'eligible'];

/** Proposals officers may see: submitted ones (once endorsed, when the call asks for endorsement). */
export function reachesOfficers(status: ProposalStatus, endorsementRequired: boolean): boolean {
  if (status === 'draft') return false;
  if (status === 'submitted') return !endorsementRequired;
  return true;
}

export interface PartnerFacts {
  institutionId: number;
  provinceCode: string;
  type: InstitutionType;
  isLead: boolean;
  requestedFen: number;
  selfFundedFen: number;
  confirmed: boolean;
}

export interface BudgetLineFacts {
  partnerId: number;
  year: number;
  category: string;
  amountFen: number;
}

export interface BudgetTotals {
  total: number;
  byPartner: Map<number, number>;
  byYear: Map<number, number>;
  byProvince: Map<string, number>;
  byCategory: Map<string, number>;
}

/** Sums of the requested budget per partner, year, province and category (integers, exact). */
export function budgetTotals(lines: BudgetLineFacts[], provinceOfPartner: Map<number, string>): BudgetTotals {
  const t: BudgetTotals = { total: 0, byPartner: new Map(), byYear: new Map(), byProvince: new Map(), byCategory: new Map() };
  const add = <K>(m: Map<K, number>, k: K, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  for (const l of lines) {
    if (!Number.isSafeInteger(l.amountFen) || l.amountFen < 0) throw new RangeError(`bad amount ${l.amountFen}`);
    t.total += l.amountFen;
    add(t.byPartner, l.partnerId, l.amountFen);
    add(t.byYear, l.year, l.amountFen);
    add(t.byCategory, l.category, l.amountFen);
    const prov = provinceOfPartner.get(l.partnerId);
    if (prov) add(t.byProvince, prov, l.amountFen);
  }
  return t;
}

export interface EligibilityFacts {
  durationMonths: number | null;
  partners: PartnerFacts[];
  /** The PI's other active proposals in the same call. */
  otherActiveOfPi: number;
}

export const RULE_IDS = ['minProvinces', 'minPartners', 'maxPartners', 'maxTotalRequest', 'maxPerPartner', 'duration', 'leadType', 'enterpriseSelfFunding', 'piLimit'] as const;
export type RuleId = (typeof RULE_IDS)[number];

export interface RuleResult {
  rule: RuleId;
  ok: boolean;
  /** Values for the message: what is required and what the proposal has. */
  params: Record<string, string | number>;
}

/** Check a proposal against every eligibility rule of its call; one result per rule, in a fixed order. */
export function checkEligibility(rules: EligibilityRules, f: EligibilityFacts): RuleResult[] {
  const provinces = new Set(f.partners.map((p) => p.provinceCode)).size;
  const n = f.partners.length;
  const total = f.partners.reduce((a, p) => a + p.requestedFen, 0);
  const maxPartner = f.partners.reduce((a, p) => Math.max(a, p.requestedFen), 0);
  const lead = f.partners.find((p) => p.isLead);
  const shortEnterprises = f.partners.filter((p) => p.type === 'enterprise' && p.selfFundedFen * 100 < p.requestedFen * rules.minEnterpriseSelfFundingPct);
  const d = f.durationMonths;
  return [
    { rule: 'minProvinces', ok: provinces >= rules.minProvinces, params: { required: rules.minProvinces, actual: provinces } },
    { rule: 'minPartners', ok: n >= rules.minPartners, params: { required: rules.minPartners, actual: n } },
    { rule: 'maxPartners', ok: n <= rules.maxPartners, params: { required: rules.maxPartners, actual: n } },
    { rule: 'maxTotalRequest', ok: rules.maxTotalRequestFen === null || total <= rules.maxTotalRequestFen, params: { required: rules.maxTotalRequestFen ?? 0, actual: total } },
    { rule: 'maxPerPartner', ok: rules.maxPerPartnerFen === null || maxPartner <= rules.maxPerPartnerFen, params: { required: rules.maxPerPartnerFen ?? 0, actual: maxPartner } },
    { rule: 'duration', ok: d !== null && d >= rules.minDurationMonths && d <= rules.maxDurationMonths, params: { min: rules.minDurationMonths, max: rules.maxDurationMonths, actual: d ?? 0 } },
    { rule: 'leadType', ok: !!lead && (rules.leadInstitutionTypes.length === 0 || rules.leadInstitutionTypes.includes(lead.type)), params: { allowed: rules.leadInstitutionTypes.join(','), actual: lead?.type ?? '' } },
    { rule: 'enterpriseSelfFunding', ok: rules.minEnterpriseSelfFundingPct === 0 || shortEnterprises.length === 0, params: { required: rules.minEnterpriseSelfFundingPct, count: shortEnterprises.length } },
    { rule: 'piLimit', ok: f.otherActiveOfPi < rules.maxActivePerPi, params: { required: rules.maxActivePerPi, actual: f.otherActiveOfPi } },
  ];
}

export const EDITOR_STEPS = ['basic', 'consortium', 'budget', 'attachments', 'exclusions', 'submit'] as const;
export type EditorStep = (typeof EDITOR_STEPS)[number];

export interface ChecklistItem {
  key: string; // i18n key under proposals:checklist.
  ok: boolean;
  step: EditorStep;
  params?: Record<string, string | number>;
}

/** Everything a proposal needs before it can be submitted, each failure linked to the step that fixes it. */
export function checklist(
  p: { title: string; abstract: string | null; keywords: string | null; topicId: number | null; durationMonths: number | null; leadInstitutionId: number | null },
  facts: EligibilityFacts,
  rules: EligibilityRules,
  o: { missingAttachmentKinds: string[]; budgetTotal: number; exclusionsWithoutReason: number; exclusions: number },
): ChecklistItem[] {
  const items: ChecklistItem[] = [
    { key: 'title', ok: p.title.trim().length > 0, step: 'basic' },
    { key: 'topic', ok: p.topicId !== null, step: 'basic' },
    { key: 'abstract', ok: (p.abstract ?? '').trim().length >= 50, step: 'basic', params: { min: 50 } },
    { key: 'keywords', ok: (p.keywords ?? '').trim().length > 0, step: 'basic' },
    { key: 'lead', ok: p.leadInstitutionId !== null, step: 'consortium' },
    { key: 'budget', ok: o.budgetTotal > 0, step: 'budget' },
    { key: 'confirmations', ok: facts.partners.filter((x) => !x.isLead).every((x) => x.confirmed), step: 'consortium', params: { count: facts.partners.filter((x) => !x.isLead && !x.confirmed).length } },
    ...o.missingAttachmentKinds.map((kind): ChecklistItem => ({ key: 'attachment', ok: false, step: 'attachments', params: { kind } })),
    { key: 'exclusions', ok: o.exclusions <= 3 && o.exclusionsWithoutReason === 0, step: 'exclusions' },
  ];
  for (const r of checkEligibility(rules, facts)) {
    const step: EditorStep = r.rule === 'duration' ? 'basic' : r.rule === 'maxTotalRequest' || r.rule === 'maxPerPartner' || r.rule === 'enterpriseSelfFunding' ? 'budget' : r.rule === 'piLimit' ? 'submit' : 'consortium';
    items.push({ key: `rule.${r.rule}`, ok: r.ok, step, params: r.params });
  }
  return items;
}

/** A receipt number: YRD-<call>-<yyyymmdd in Asia/Shanghai>-<proposal, 6 digits>-<submission count>. */
export function receiptNumber(callId: number, proposalId: number, submittedAt: Date, nth: number): string {
  return `YRD-${callId}-${shanghaiDay(submittedAt)}-${String(proposalId).padStart(6, '0')}-${nth}`;
}

/** Parse a money amount typed in 元 (up to two decimals, thousands separators allowed) into integer fen. */
export function parseYuan(raw: string): number | null {
  const s = raw.replace(/[,，\s]/g, '');
  if (!/^\d{1,13}(\.\d{1,2})?$/.test(s)) return null;
  const [yuan, cents = ''] = s.split('.');
  return Number(yuan) * 100 + Number((cents + '00').slice(0, 2));
}

/** Integer fen shown as 元 with two decimals and thousands separators. */
export function formatYuan(fen: number): string {
  const neg = fen < 0;
  const abs = Math.abs(fen);
  // Thousands separators by hand: a list page formats a few hundred amounts, and the look-ahead regex was slow.
  const digits = String(Math.floor(abs / 100));
  let yuan = '';
  for (let i = 0; i < digits.length; i++) yuan += (i > 0 && (digits.length - i) % 3 === 0 ? ',' : '') + digits[i];
  const cents = abs % 100;
  return `${neg ? '-' : ''}${yuan}.${cents < 10 ? '0' : ''}${cents}`;
}
