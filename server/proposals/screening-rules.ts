/**
 * Pure rules of the host-institution endorsement (依托单位审核) and the officers' screening (形式审查):
 * which decisions are allowed from which status, when a reason is required, the eligibility report in words,
 * and the spreadsheet-cell guard used by the exports. No Express, no Sequelize.
 */
import { DEFAULT_RULES, type CallStatus, type EligibilityRules } from '../calls/rules.js';
import { INSTITUTION_TYPES, type InstitutionType } from '../people/rules.js';
import { formatYuan, type ProposalStatus, type RuleResult } from './rules.js';

/** A call's stored rules merged over the defaults; unknown or mistyped fields fall back to the default. */
export function parseRules(json: string | null | undefined): EligibilityRules {
  let raw: Record<string, unknown> = {};
  try {
    const v = JSON.parse(json ?? '{}');
    if (v && typeof v === 'object' && !Array.isArray(v)) raw = v as Record<string, unknown>;
  } catch {
    raw = {};
  }
  const int = (k: keyof EligibilityRules) => (Number.isSafeInteger(raw[k]) ? (raw[k] as number) : (DEFAULT_RULES[k] as number));
  const money = (k: 'maxTotalRequestFen' | 'maxPerPartnerFen') => (raw[k] === null ? null : Number.isSafeInteger(raw[k]) ? (raw[k] as number) : DEFAULT_RULES[k]);
  const types = Array.isArray(raw.leadInstitutionTypes) ? raw.leadInstitutionTypes.filter((t): t is InstitutionType => (INSTITUTION_TYPES as readonly unknown[]).includes(t)) : DEFAULT_RULES.leadInstitutionTypes;
  return {
    minProvinces: int('minProvinces'),
    minPartners: int('minPartners'),
    maxPartners: int('maxPartners'),
    maxTotalRequestFen: money('maxTotalRequestFen'),
    maxPerPartnerFen: money('maxPerPartnerFen'),
    minDurationMonths: int('minDurationMonths'),
    maxDurationMonths: int('maxDurationMonths'),
    leadInstitutionTypes: types,
    minEnterpriseSelfFundingPct: int('minEnterpriseSelfFundingPct'),
    maxActivePerPi: int('maxActivePerPi'),
  };
}

// ---- endorsement ---------------------------------------------------------------------------------

export type EndorsementAction = 'endorse' | 'return';

/**
 * Why the host institution may not endorse or return this proposal now (an i18n key), or null.
 * The endorsement deadline is inclusive to the second, like the submission deadline; no deadline = no limit.
 */
export function endorsementProblem(
  p: { status: ProposalStatus; endorsementRequired: boolean; endorsementDeadlineAt: Date | null; callStatus: CallStatus },
  now: Date,
): string | null {
  if (!p.endorsementRequired) return 'screening:endorse.errors.notRequired';
  if (p.status !== 'submitted') return 'screening:endorse.errors.notPending';
  if (p.callStatus !== 'published' && p.callStatus !== 'closed') return 'screening:endorse.errors.callMovedOn';
  if (p.endorsementDeadlineAt && Math.floor(now.getTime() / 1000) > Math.floor(p.endorsementDeadlineAt.getTime() / 1000)) return 'screening:endorse.errors.deadlinePassed';
  return null;
}

// ---- screening -----------------------------------------------------------------------------------

export const SCREENING_DECISIONS = ['eligible', 'ineligible'] as const;
export type ScreeningDecision = (typeof SCREENING_DECISIONS)[number];

/** Statuses a screening decision may start from: awaiting screening, or a decision being changed. */
export function awaitsScreening(status: ProposalStatus, endorsementRequired: boolean): boolean {
  return status === 'endorsed' || (status === 'submitted' && !endorsementRequired);
}

/**
 * Why an officer may not record this decision now (an i18n key), or null. Officers decide proposals that
 * reached them, and may change eligible ⇄ ineligible until the call goes to review.
 */
export function screeningProblem(
  p: { status: ProposalStatus; endorsementRequired: boolean; callStatus: CallStatus },
  decision: ScreeningDecision,
): string | null {
  if (p.callStatus !== 'published' && p.callStatus !== 'closed') return 'screening:decide.errors.callMovedOn';
  if (awaitsScreening(p.status, p.endorsementRequired)) return null;
  if (p.status === 'eligible' || p.status === 'ineligible') return p.status === decision ? 'screening:decide.errors.unchanged' : null;
  return 'screening:decide.errors.notScreenable';
}

/**
 * A reason is required to declare a proposal ineligible, to change an earlier decision, and to declare eligible
 * a proposal that fails an automatic check (the officer overrides the report and says why).
 */
export function screeningReasonRequired(from: ProposalStatus, decision: ScreeningDecision, failedRules: number): boolean {
  if (decision === 'ineligible') return true;
  if (from === 'eligible' || from === 'ineligible') return true;
  return failedRules > 0;
}

// ---- the eligibility report in words --------------------------------------------------------------

export interface RuleLine {
  rule: string;
  ok: boolean;
  /** i18n key of the sentence "required … / actual …", and its values already formatted (money in 元). */
  key: string;
  params: Record<string, string | number>;
}

/**
 * One line per rule for the officer: what is required and what the proposal has. `typeLabel` turns an
 * institution type into words in the page's language.
 */
export function ruleLines(rules: EligibilityRules, results: RuleResult[], typeLabel: (t: string) => string, noLimit: string): RuleLine[] {
  return results.map((r): RuleLine => {
    const p = r.params;
    const key = `screening:rules.${r.rule}`;
    switch (r.rule) {
      case 'maxTotalRequest':
      case 'maxPerPartner': {
        const limit = r.rule === 'maxTotalRequest' ? rules.maxTotalRequestFen : rules.maxPerPartnerFen;
        return { rule: r.rule, ok: r.ok, key, params: { required: limit === null ? noLimit : formatYuan(limit), actual: formatYuan(Number(p.actual)) } };
      }
      case 'leadType': {
        const allowed = rules.leadInstitutionTypes.length ? rules.leadInstitutionTypes.map(typeLabel).join('、') : noLimit;
        return { rule: r.rule, ok: r.ok, key, params: { allowed, actual: p.actual ? typeLabel(String(p.actual)) : '—' } };
      }
      case 'enterpriseSelfFunding':
        return { rule: r.rule, ok: r.ok, key: rules.minEnterpriseSelfFundingPct === 0 ? 'screening:rules.enterpriseSelfFundingNone' : key, params: { required: p.required!, count: p.count! } };
      case 'duration':
        return { rule: r.rule, ok: r.ok, key, params: { min: p.min!, max: p.max!, actual: p.actual! } };
      default:
        return { rule: r.rule, ok: r.ok, key, params: { required: p.required!, actual: p.actual! } };
    }
  });
}

// ---- spreadsheet exports --------------------------------------------------------------------------

/**
 * Neutralise spreadsheet formula injection (OWASP "CSV injection"): a text cell starting with = + - @ or a
 * tab / carriage return is prefixed with a single quote so Excel, WPS and LibreOffice show it as text.
 */
export function safeCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** A LIKE pattern matching `text` anywhere, with % _ and the escape character itself escaped by '!'. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[!%_]/g, '!$&')}%`;
}
