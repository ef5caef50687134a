/**
 * The denormalised proposal facts (server/proposals/facts*.ts) behind the screening list:
 * - pure: `failedRulesOf` on `proposalFacts` answers exactly like `checkEligibility` on the partners;
 * - stored: after random sequences of edits through the real writers (start, lead, add / remove partner,
 *   budget, institution type / province), every proposal's stored facts equal the plain aggregate over its
 *   partners and budget lines (the SQL the screening list used to run per request, kept here as the reference).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { QueryTypes } from 'sequelize';
import { updateInstitution } from '../../server/people/institution-service.js';
import { INSTITUTION_TYPES, type InstitutionType } from '../../server/people/rules.js';
import { SYSTEM } from '../../server/platform/audit.js';
import type { Actor } from '../../server/platform/policy.js';
import { failedRulesOf, floorDiv, proposalFacts, type FactsPartner } from '../../server/proposals/facts-rules.js';
import { Proposal } from '../../server/proposals/models.js';
import { checkEligibility } from '../../server/proposals/rules.js';
import { DEFAULT_FILTERS, screeningPage } from '../../server/proposals/screening-query.js';
import { callScopes } from '../../server/proposals/screening-service.js';
import { addPartner, removePartner, saveBudget, setLead, startDraft } from '../../server/proposals/service.js';
import { makeCall } from '../support/call-factories.js';
import { makeInstitution, makeUser } from '../support/factories.js';
import { rulesArb } from '../support/eligibility-arbitraries.js';
import { platform, resetDb } from '../support/platform.js';
import { makeSubmittedProposal } from '../support/proposal-factories.js';

const PROVINCES = ['SH', 'JS', 'ZJ', 'AH'];

const partnerArb = fc.record({
  provinceCode: fc.constantFrom(...PROVINCES),
  isLead: fc.boolean(),
  type: fc.constantFrom(...INSTITUTION_TYPES),
  institutionProvince: fc.constantFrom(...PROVINCES),
  requestedFen: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2_000_000_000_00 })),
  selfFundedFen: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2_000_000_000_00 })),
});

describe('proposal facts (pure)', () => {
  it('failedRulesOf on the facts names exactly the rules checkEligibility fails on the partners', () => {
    fc.assert(
      fc.property(fc.array(partnerArb, { maxLength: 8 }), rulesArb, fc.option(fc.integer({ min: 0, max: 72 }), { nil: null }), fc.integer({ min: 0, max: 4 }), (partners, rules, duration, otherActive) => {
        const expected = checkEligibility(rules, { durationMonths: duration, otherActiveOfPi: otherActive, partners: partners.map((p, i) => ({ ...p, institutionId: i + 1, confirmed: true })) })
          .filter((r) => !r.ok)
          .map((r) => r.rule);
        expect(failedRulesOf(rules, proposalFacts(partners), duration, otherActive)).to.deep.equal(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('an enterprise requesting money is short of a whole percentage exactly when its floored percentage is below it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 12 }), fc.integer({ min: 1, max: 10 ** 12 }), fc.integer({ min: 0, max: 500 }), (self, req, pct) => {
        const facts = proposalFacts([{ provinceCode: 'SH', isLead: true, type: 'enterprise', institutionProvince: 'SH', requestedFen: req, selfFundedFen: self }]);
        expect(facts.enterpriseMinSelfPct! < pct).to.equal(BigInt(self) * 100n < BigInt(req) * BigInt(pct));
      }),
      { numRuns: 2000 },
    );
    expect(floorDiv(-7, 2)).to.equal(-4);
    expect(floorDiv(7, 2)).to.equal(3);
  });

  it('sums, counts and provinces of a small consortium', () => {
    const p = (x: Partial<FactsPartner>): FactsPartner => ({ provinceCode: 'SH', isLead: false, type: 'university', institutionProvince: 'SH', requestedFen: 0, selfFundedFen: 0, ...x });
    const f = proposalFacts([p({ provinceCode: 'JS', requestedFen: 300, isLead: true, type: 'institute', institutionProvince: 'JS' }), p({ requestedFen: 500, selfFundedFen: 100 }), p({ requestedFen: 200, type: 'enterprise', selfFundedFen: 99 })]);
    expect(f).to.deep.equal({ totalRequestFen: 1000, maxPartnerRequestFen: 500, selfFundedFen: 199, partnerCount: 3, provinceCount: 2, provinces: ['JS', 'SH'], leadType: 'institute', leadProvince: 'JS', enterpriseMinSelfPct: 49 });
  });
});

interface Reference {
  id: number;
  total_fen: number | string | null;
  max_req: number | string | null;
  self_fen: number | string | null;
  n_partners: number | string | null;
  n_provinces: number | string | null;
  lead_type: string | null;
  lead_province: string | null;
  min_pct: number | string | null;
  provinces: string | null;
}

/** The plain aggregate over partners, institutions and budget lines (no stored facts involved). */
async function reference(): Promise<Map<number, Reference>> {
  const { sequelize } = await platform();
  const div = sequelize.getDialect() === 'sqlite' ? '/' : 'DIV';
  const rows = await sequelize.query<Reference>(
    `WITH preq AS (
       SELECT pp.id, pp.proposal_id, pp.province_code, pp.is_lead, pp.self_funded_fen, i.type AS inst_type, i.province_code AS inst_province,
         COALESCE(SUM(bl.amount_fen), 0) AS req
       FROM proposal_partners pp JOIN institutions i ON i.id = pp.institution_id LEFT JOIN budget_lines bl ON bl.partner_id = pp.id
       GROUP BY pp.id, pp.proposal_id, pp.province_code, pp.is_lead, pp.self_funded_fen, i.type, i.province_code
     )
     SELECT p.id, SUM(pr.req) AS total_fen, MAX(pr.req) AS max_req, SUM(pr.self_funded_fen) AS self_fen, COUNT(pr.id) AS n_partners,
       COUNT(DISTINCT pr.province_code) AS n_provinces,
       MAX(CASE WHEN pr.is_lead = 1 THEN pr.inst_type END) AS lead_type, MAX(CASE WHEN pr.is_lead = 1 THEN pr.inst_province END) AS lead_province,
       MIN(CASE WHEN pr.inst_type = 'enterprise' AND pr.req > 0 THEN (pr.self_funded_fen * 100) ${div} pr.req END) AS min_pct,
       (SELECT GROUP_CONCAT(DISTINCT x.province_code) FROM proposal_partners x WHERE x.proposal_id = p.id) AS provinces
     FROM proposals p LEFT JOIN preq pr ON pr.proposal_id = p.id
     GROUP BY p.id`,
    { type: QueryTypes.SELECT },
  );
  return new Map(rows.map((r) => [Number(r.id), r]));
}

async function expectFactsMatchReference(context: string) {
  const ref = await reference();
  const n = (v: number | string | null) => (v === null ? null : Number(v));
  for (const p of await Proposal.findAll({ order: [['id', 'ASC']] })) {
    const r = ref.get(p.id)!;
    const provinces = (r.provinces ?? '').split(',').filter(Boolean).sort();
    const got = { total: p.totalRequestFen, max: p.maxPartnerRequestFen, self: p.selfFundedFen, partners: p.partnerCount, nProvinces: p.provinceCount, provinces: p.provinceCodes, leadType: p.leadType, leadProvince: p.leadProvince, minPct: p.enterpriseMinSelfPct };
    const want = { total: n(r.total_fen) ?? 0, max: n(r.max_req) ?? 0, self: n(r.self_fen) ?? 0, partners: n(r.n_partners), nProvinces: n(r.n_provinces), provinces: provinces.join(','), leadType: r.lead_type, leadProvince: r.lead_province, minPct: n(r.min_pct) };
    expect(got, `${context}: proposal ${p.id}`).to.deep.equal(want);
  }
}

type Op =
  | { kind: 'start'; pi: number }
  | { kind: 'add'; proposal: number; inst: number; contact: number }
  | { kind: 'remove'; proposal: number; partner: number }
  | { kind: 'budget'; proposal: number; partner: number; amounts: number[]; self: number }
  | { kind: 'lead'; proposal: number; inst: number }
  | { kind: 'institution'; inst: number; type: InstitutionType; province: string };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('start' as const), pi: fc.nat(3) }),
  fc.record({ kind: fc.constant('add' as const), proposal: fc.nat(5), inst: fc.nat(7), contact: fc.nat(3) }),
  fc.record({ kind: fc.constant('remove' as const), proposal: fc.nat(5), partner: fc.nat(5) }),
  fc.record({ kind: fc.constant('budget' as const), proposal: fc.nat(5), partner: fc.nat(5), amounts: fc.array(fc.integer({ min: 0, max: 9_000_000_00 }), { minLength: 3, maxLength: 3 }), self: fc.integer({ min: 0, max: 9_000_000_00 }) }),
  fc.record({ kind: fc.constant('lead' as const), proposal: fc.nat(5), inst: fc.nat(7) }),
  fc.record({ kind: fc.constant('institution' as const), inst: fc.nat(7), type: fc.constantFrom(...INSTITUTION_TYPES), province: fc.constantFrom(...PROVINCES) }),
);

describe('proposal facts (stored) stay equal to the aggregate over partners and budget lines', () => {
  beforeEach(resetDb);

  it('after random sequences of edits through the writers', async function () {
    this.timeout(240_000);
    const { sequelize } = await platform();
    const d = { sequelize, baseUrl: 'http://localhost' };
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 25 }), async (ops) => {
        await resetDb();
        const call = await makeCall();
        const insts = await Promise.all(Array.from({ length: 8 }, (_, i) => makeInstitution({ provinceCode: PROVINCES[i % 4]!, type: INSTITUTION_TYPES[i % INSTITUTION_TYPES.length]! })));
        const users = await Promise.all(Array.from({ length: 4 }, (_, i) => makeUser({ institutionId: i % 2 === 0 ? insts[i]!.id : null })));
        const actor = (i: number): Actor => ({ id: users[i]!.id, email: users[i]!.email, name: users[i]!.name, lang: 'zh-CN', institutionId: users[i]!.institutionId, roles: [] });
        const proposals: number[] = [];
        const partnersOf = async (id: number) => (await sequelize.query<{ id: number }>('SELECT id FROM proposal_partners WHERE proposal_id = ? ORDER BY id', { replacements: [id], type: QueryTypes.SELECT })).map((r) => Number(r.id));
        for (const op of ops) {
          const pid = proposals.length ? proposals[(op as { proposal?: number }).proposal! % proposals.length] : undefined;
          if (op.kind === 'start') proposals.push(await startDraft(d, SYSTEM, actor(op.pi), call.id));
          else if (op.kind === 'institution') {
            const inst = insts[op.inst]!;
            await updateInstitution(sequelize, SYSTEM, inst.id, { nameZh: inst.nameZh, nameEn: inst.nameEn, provinceCode: op.province, type: op.type, creditCode: inst.creditCode });
          } else if (pid === undefined) continue;
          else if (op.kind === 'add') {
            const p = (await Proposal.findByPk(pid))!;
            const contact = users.find((u, i) => i >= op.contact && u.id !== p.piUserId) ?? users.find((u) => u.id !== p.piUserId)!;
            await addPartner(d, SYSTEM, actor(0), pid, { institutionId: insts[op.inst]!.id, contactEmail: contact.email, role: '合作' });
          } else if (op.kind === 'lead') await setLead(d, SYSTEM, actor(0), pid, insts[op.inst]!.id);
          else {
            const partners = await partnersOf(pid);
            if (!partners.length) continue;
            const partner = partners[op.partner % partners.length]!;
            if (op.kind === 'remove') await removePartner(d, SYSTEM, pid, partner);
            else {
              const lines = [
                { year: 1, category: 'equipment', amountFen: op.amounts[0]! },
                { year: 1, category: 'labour', amountFen: op.amounts[1]! },
                { year: 2, category: 'materials', amountFen: op.amounts[2]! },
              ];
              await saveBudget(d, SYSTEM, pid, partner, { lines, selfFundedFen: op.self });
            }
          }
        }
        await expectFactsMatchReference(JSON.stringify(ops));
      }),
      { numRuns: 25 },
    );
  });
});

describe('officer visibility on the stored provinces', () => {
  beforeEach(resetDb);

  it('an officer lists exactly the proposals with a partner in one of their provinces (reference: the partners themselves)', async () => {
    const { sequelize } = await platform();
    const call = await makeCall();
    const insts = await Promise.all(PROVINCES.map((provinceCode) => makeInstitution({ provinceCode })));
    const rand = fc.sample(fc.array(fc.subarray([0, 1, 2, 3], { minLength: 1 }), { minLength: 14, maxLength: 14 }), { numRuns: 1, seed: 20261127 })[0]!;
    for (const chosen of rand) {
      const pi = await makeUser();
      await makeSubmittedProposal({ call, pi, partners: chosen.map((i) => ({ institution: insts[i]! })) });
    }
    // A draft with an Anhui partner never reaches officers.
    await makeSubmittedProposal({ call, pi: await makeUser(), status: 'draft', partners: [{ institution: insts[3]! }, { institution: insts[0]! }] });
    const calls = await callScopes(sequelize);
    for (const mine of [['AH'], ['SH'], ['JS', 'ZJ'], PROVINCES, []]) {
      const want = await sequelize.query<{ id: number }>(
        "SELECT DISTINCT p.id FROM proposals p JOIN proposal_partners pp ON pp.proposal_id = p.id WHERE p.status <> 'draft' AND pp.province_code IN (:mine) ORDER BY p.id",
        { type: QueryTypes.SELECT, replacements: { mine: mine.length ? mine : ['-'] } },
      );
      const page = await screeningPage(sequelize, mine, calls, DEFAULT_FILTERS, { limit: 1000, offset: 0 });
      expect(page.rows.map((r) => r.id).sort((a, b) => a - b), mine.join(',')).to.deep.equal(want.map((r) => Number(r.id)));
      expect(page.count).to.equal(want.length);
      for (const r of page.rows) expect(r.provinces.some((p) => mine.includes(p))).to.equal(true);
      const byProvince = await screeningPage(sequelize, mine, calls, { ...DEFAULT_FILTERS, province: 'ZJ' }, { limit: 1000, offset: 0 });
      expect(byProvince.rows.every((r) => r.provinces.includes('ZJ') && r.provinces.some((p) => mine.includes(p)))).to.equal(true);
    }
  });
});
