/** Random call eligibility rules for property tests (fast-check). */
import fc from 'fast-check';
import type { EligibilityRules } from '../../server/calls/rules.js';
import { INSTITUTION_TYPES, type InstitutionType } from '../../server/people/rules.js';

export const rulesArb: fc.Arbitrary<EligibilityRules> = fc.record({
  minProvinces: fc.integer({ min: 0, max: 5 }),
  minPartners: fc.integer({ min: 0, max: 6 }),
  maxPartners: fc.integer({ min: 0, max: 8 }),
  maxTotalRequestFen: fc.option(fc.integer({ min: 0, max: 2e11 }), { nil: null }),
  maxPerPartnerFen: fc.option(fc.integer({ min: 0, max: 5e10 }), { nil: null }),
  minDurationMonths: fc.integer({ min: 0, max: 36 }),
  maxDurationMonths: fc.integer({ min: 0, max: 72 }),
  leadInstitutionTypes: fc.subarray([...INSTITUTION_TYPES] as InstitutionType[]),
  minEnterpriseSelfFundingPct: fc.oneof(fc.constantFrom(0, 0, 50, 100, 150), fc.integer({ min: 0, max: 300 })),
  maxActivePerPi: fc.integer({ min: 0, max: 3 }),
});
