/**
 * The per-proposal facts kept on the proposals row (denormalised for the officers' screening list): what the
 * list filters, sorts and shows, and enough to decide every eligibility rule without reading the partners.
 * Pure: no Express, no Sequelize. `proposalFacts` is the only definition; `failedRulesOf` answers like
 * `checkEligibility` does on the partners themselves (the tests prove both agree on random consortia).
 */
import type { EligibilityRules } from '../calls/rules.js';
import type { InstitutionType } from '../people/rules.js';
import { RULE_IDS, type RuleId } from './rules.js';

/** One partner as the facts need it: its institution's current type and province, and its money in fen. */
export interface FactsPartner {
  /** The consortium province (copied from the institution when the partner was added). */
  provinceCode: string;
  isLead: boolean;
  type: InstitutionType;
  /** The lead's institution province now (the list shows it next to the lead's name). */
  institutionProvince: string;
  requestedFen: number;
  selfFundedFen: number;
}

export interface ProposalFacts {
  totalRequestFen: number;
  maxPartnerRequestFen: number;
  selfFundedFen: number;
  partnerCount: number;
  provinceCount: number;
  /** The consortium's distinct provinces, sorted (stored comma-separated as `province_codes`). */
  provinces: string[];
  /** Type and province of the first lead partner's institution; null without a lead. */
  leadType: InstitutionType | null;
  leadProvince: string | null;
  /**
   * The lowest ⌊100 · self-funded ÷ requested⌋ over enterprise partners requesting money, or null. For an
   * integer percentage p, an enterprise is short (self · 100 < requested · p) exactly when this floor is < p.
   */
  enterpriseMinSelfPct: number | null;
}

export const NO_FACTS: ProposalFacts = { totalRequestFen: 0, maxPartnerRequestFen: 0, selfFundedFen: 0, partnerCount: 0, provinceCount: 0, provinces: [], leadType: null, leadProvince: null, enterpriseMinSelfPct: null };

/** ⌊a ÷ b⌋ for safe integers, b > 0, without floating-point division. */
export function floorDiv(a: number, b: number): number {
  const r = ((a % b) + b) % b;
  return (a - r) / b;
}

export function proposalFacts(partners: FactsPartner[]): ProposalFacts {
  const provinces = [...new Set(partners.map((p) => p.provinceCode))].sort();
  const lead = partners.find((p) => p.isLead);
  let total = 0;
  let max = 0;
  let self = 0;
  let entMin: number | null = null;
  for (const p of partners) {
    total += p.requestedFen;
    self += p.selfFundedFen;
    max = Math.max(max, p.requestedFen);
    if (p.type === 'enterprise' && p.requestedFen > 0) {
      const pct = floorDiv(p.selfFundedFen * 100, p.requestedFen);
      entMin = entMin === null ? pct : Math.min(entMin, pct);
    }
  }
  return {
    totalRequestFen: total,
    maxPartnerRequestFen: max,
    selfFundedFen: self,
    partnerCount: partners.length,
    provinceCount: provinces.length,
    provinces,
    leadType: lead?.type ?? null,
    leadProvince: lead?.institutionProvince ?? null,
    enterpriseMinSelfPct: entMin,
  };
}

/** The rules of a call the proposal fails, in `checkEligibility`'s order, decided on the stored facts. */
export function failedRulesOf(rules: EligibilityRules, f: ProposalFacts, durationMonths: number | null, otherActiveOfPi: number): RuleId[] {
  const ok: Record<RuleId, boolean> = {
    minProvinces: f.provinceCount >= rules.minProvinces,
    minPartners: f.partnerCount >= rules.minPartners,
    maxPartners: f.partnerCount <= rules.maxPartners,
    maxTotalRequest: rules.maxTotalRequestFen === null || f.totalRequestFen <= rules.maxTotalRequestFen,
    maxPerPartner: rules.maxPerPartnerFen === null || f.maxPartnerRequestFen <= rules.maxPerPartnerFen,
    duration: durationMonths !== null && durationMonths >= rules.minDurationMonths && durationMonths <= rules.maxDurationMonths,
    leadType: f.leadType !== null && (rules.leadInstitutionTypes.length === 0 || rules.leadInstitutionTypes.includes(f.leadType)),
    enterpriseSelfFunding: rules.minEnterpriseSelfFundingPct === 0 || f.enterpriseMinSelfPct === null || f.enterpriseMinSelfPct >= rules.minEnterpriseSelfFundingPct,
    piLimit: otherActiveOfPi < rules.maxActivePerPi,
  };
  return RULE_IDS.filter((r) => !ok[r]);
}
