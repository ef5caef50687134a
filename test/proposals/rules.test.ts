import { expect } from 'chai';
import fc from 'fast-check';
import { DEFAULT_BUDGET_CATEGORIES, submissionWindow, type EligibilityRules } from '../../server/calls/rules.js';
import { INSTITUTION_TYPES } from '../../server/people/rules.js';
import { budgetTotals, checkEligibility, checklist, EDITOR_STEPS, formatYuan, parseYuan, receiptNumber, type EligibilityFacts, type PartnerFacts } from '../../server/proposals/rules.js';
import { parseBudgetForm } from '../../server/proposals/schema.js';
import { contentDisposition, displayName } from '../../server/proposals/attachments.js';
import { rulesArb } from '../support/eligibility-arbitraries.js';

const PROVINCES = ['SH', 'JS', 'ZJ', 'AH', 'XX'];

const partnerArb: fc.Arbitrary<PartnerFacts> = fc.record({
  institutionId: fc.integer({ min: 1, max: 1000 }),
  provinceCode: fc.constantFrom(...PROVINCES),
  type: fc.constantFrom(...INSTITUTION_TYPES),
  isLead: fc.boolean(),
  requestedFen: fc.integer({ min: 0, max: 5e10 }),
  selfFundedFen: fc.integer({ min: 0, max: 5e10 }),
  confirmed: fc.boolean(),
});

const factsArb: fc.Arbitrary<EligibilityFacts> = fc.record({
  durationMonths: fc.option(fc.integer({ min: 0, max: 80 }), { nil: null }),
  partners: fc.array(partnerArb, { maxLength: 9 }),
  otherActiveOfPi: fc.integer({ min: 0, max: 4 }),
});

/** The rules written out the plain way, one loop each, as an officer would check them by hand. */
function reference(r: EligibilityRules, f: EligibilityFacts): Record<string, boolean> {
  const provinces: string[] = [];
  for (const p of f.partners) if (!provinces.includes(p.provinceCode)) provinces.push(p.provinceCode);
  let total = 0;
  let perPartnerOk = true;
  for (const p of f.partners) {
    total += p.requestedFen;
    if (r.maxPerPartnerFen !== null && p.requestedFen > r.maxPerPartnerFen) perPartnerOk = false;
  }
  let lead: PartnerFacts | undefined;
  for (const p of f.partners) if (p.isLead && !lead) lead = p;
  let enterprisesOk = true;
  if (r.minEnterpriseSelfFundingPct > 0) {
    for (const p of f.partners) {
      // self / requested >= pct / 100, in exact integer arithmetic
      if (p.type === 'enterprise' && BigInt(p.selfFundedFen) * 100n < BigInt(p.requestedFen) * BigInt(r.minEnterpriseSelfFundingPct)) enterprisesOk = false;
    }
  }
  return {
    minProvinces: provinces.length >= r.minProvinces,
    minPartners: f.partners.length >= r.minPartners,
    maxPartners: f.partners.length <= r.maxPartners,
    maxTotalRequest: r.maxTotalRequestFen === null ? true : total <= r.maxTotalRequestFen,
    maxPerPartner: perPartnerOk,
    duration: f.durationMonths !== null && f.durationMonths >= r.minDurationMonths && f.durationMonths <= r.maxDurationMonths,
    leadType: lead !== undefined && (r.leadInstitutionTypes.length === 0 || r.leadInstitutionTypes.indexOf(lead.type) >= 0),
    enterpriseSelfFunding: enterprisesOk,
    piLimit: f.otherActiveOfPi < r.maxActivePerPi,
  };
}

describe('proposal rules (properties)', () => {
  it('eligibility agrees with the plain reference implementation on random proposals', () => {
    fc.assert(
      fc.property(rulesArb, factsArb, (rules, facts) => {
        const got = Object.fromEntries(checkEligibility(rules, facts).map((r) => [r.rule, r.ok]));
        expect(got).to.deep.equal(reference(rules, facts));
      }),
      { numRuns: 2000 },
    );
  });

  it('the checklist carries every eligibility result and links each failure to an editor step', () => {
    fc.assert(
      fc.property(rulesArb, factsArb, fc.array(fc.constantFrom('application', 'agreement'), { maxLength: 2 }), (rules, facts, missing) => {
        const items = checklist(
          { title: 't', abstract: 'x'.repeat(60), keywords: 'k', topicId: 1, durationMonths: facts.durationMonths, leadInstitutionId: 1 },
          facts,
          rules,
          { missingAttachmentKinds: missing, budgetTotal: 1, exclusions: 0, exclusionsWithoutReason: 0 },
        );
        const ref = reference(rules, facts);
        for (const [rule, ok] of Object.entries(ref)) expect(items.find((i) => i.key === `rule.${rule}`)?.ok, rule).to.equal(ok);
        expect(items.filter((i) => i.key === 'attachment')).to.have.length(missing.length);
        for (const i of items) expect(EDITOR_STEPS).to.include(i.step);
        const unconfirmed = facts.partners.filter((p) => !p.isLead && !p.confirmed).length;
        expect(items.find((i) => i.key === 'confirmations')!.ok).to.equal(unconfirmed === 0);
      }),
      { numRuns: 500 },
    );
  });

  it('budget totals per partner, per year, per province and per category all add up to the total, exactly', () => {
    const lineArb = fc.record({
      partnerId: fc.integer({ min: 1, max: 6 }),
      year: fc.integer({ min: 1, max: 5 }),
      category: fc.constantFrom(...DEFAULT_BUDGET_CATEGORIES.map((c) => c.code)),
      amountFen: fc.integer({ min: 0, max: 1e12 }),
    });
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 60 }), fc.array(fc.constantFrom(...PROVINCES), { minLength: 6, maxLength: 6 }), (lines, provs) => {
        const provinceOf = new Map(provs.map((p, i) => [i + 1, p]));
        const t = budgetTotals(lines, provinceOf);
        const sum = (m: Map<unknown, number>) => [...m.values()].reduce((a, b) => a + b, 0);
        let plain = 0;
        for (const l of lines) plain += l.amountFen;
        expect(t.total).to.equal(plain);
        expect(sum(t.byPartner)).to.equal(t.total);
        expect(sum(t.byYear)).to.equal(t.total);
        expect(sum(t.byProvince)).to.equal(t.total);
        expect(sum(t.byCategory)).to.equal(t.total);
        for (const [prov, amount] of t.byProvince) {
          expect(amount).to.equal(lines.filter((l) => provinceOf.get(l.partnerId) === prov).reduce((a, l) => a + l.amountFen, 0));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('formatYuan and parseYuan round-trip every amount in fen exactly (no float)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999_999_999_999 }), (fen) => {
        expect(parseYuan(formatYuan(fen))).to.equal(fen);
      }),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9_999_999_999 }), fc.integer({ min: 0, max: 99 }), (yuan, cents) => {
        const s = `${yuan}.${String(cents).padStart(2, '0')}`;
        expect(parseYuan(s)).to.equal(yuan * 100 + cents);
      }),
    );
    expect(parseYuan('0.07')).to.equal(7);
    expect(parseYuan('1.1')).to.equal(110);
    expect(parseYuan('1，234.5')).to.equal(123450);
    for (const bad of ['-1', '1.234', 'abc', '1e3', '', '.5', '1.']) expect(parseYuan(bad), bad).to.equal(null);
  });

  it('the submission window is inclusive to the second of the deadline, whatever the milliseconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1.7e12, max: 1.9e12 }), fc.integer({ min: -5000, max: 5000 }), (deadlineMs, offset) => {
        const now = new Date(deadlineMs + offset);
        const state = submissionWindow({ status: 'published', opensAt: null, deadlineAt: new Date(deadlineMs) }, now);
        const expected = Math.floor(now.getTime() / 1000) <= Math.floor(deadlineMs / 1000) ? 'open' : 'closed';
        expect(state).to.equal(expected);
      }),
    );
  });

  it('the receipt number uses the Shanghai date and fits its column', () => {
    expect(receiptNumber(12, 345, new Date('2026-11-24T16:30:00Z'), 2)).to.equal('YRD-12-20261125-000345-2');
    expect(receiptNumber(999999, 999999, new Date(), 99).length).to.be.at.most(32);
  });

  it('parses a budget grid: only known cells, empty is zero, a bad cell is an error on that cell', () => {
    const cats = DEFAULT_BUDGET_CATEGORIES.slice(0, 2);
    const ok = parseBudgetForm({ 'a.1.equipment': '1,000', 'a.2.materials': '', 'a.3.equipment': '5', 'a.1.bogus': '9', selfFunded: '2.5' }, cats, 2);
    expect(ok).to.deep.equal({ ok: true, data: { lines: [{ year: 1, category: 'equipment', amountFen: 100000 }], selfFundedFen: 250 } });
    const bad = parseBudgetForm({ 'a.1.equipment': ['1', '2'], 'a.2.materials': '-3' }, cats, 2);
    expect(bad.ok).to.equal(false);
    if (!bad.ok) expect(Object.keys(bad.errors).sort()).to.deep.equal(['a.1.equipment', 'a.2.materials']);
  });

  it('download names: RFC 5987 header with an ASCII fallback; display names lose control characters', () => {
    expect(contentDisposition('报告 "final".pdf')).to.equal(`attachment; filename="__ _final_.pdf"; filename*=UTF-8''%E6%8A%A5%E5%91%8A%20%22final%22.pdf`);
    expect(contentDisposition("a'b(1).pdf")).to.contain("filename*=UTF-8''a%27b%281%29.pdf");
    expect(displayName('evil\r\nname\u202e.pdf')).to.equal('evilname.pdf');
    expect(displayName('')).to.equal('file');
  });
});
