import { expect } from 'chai';
import fc from 'fast-check';
import { AuditEvent } from '../../server/platform/audit.js';
import { SYSTEM } from '../../server/platform/audit.js';
import { IntegritySanction } from '../../server/integrity/models.js';
import { loadBundle } from '../../server/proposals/bundle.js';
import { ReviewerExclusion } from '../../server/proposals/models.js';
import {
  blocking,
  blockingPairs,
  CONFLICT_CAUSES,
  conflictMatrix,
  forbiddenPairs,
  normaliseName,
  type Conflict,
  type ConflictDecisions,
  type ExpertConflictFacts,
  type ProposalConflictFacts,
} from '../../server/review/conflicts.js';
import { addConflict, conflictsFor, conflictsForProposals, declareConflict, liftConflict, setNoExpertFromLeadProvince, withdrawDeclaredConflict, withdrawOverride } from '../../server/review/experts-conflicts.js';
import { platform, resetDb } from '../support/platform.js';
import { makeInstitution, makeUser } from '../support/factories.js';
import { makeCall } from '../support/call-factories.js';
import { makeSubmittedProposal } from '../support/proposal-factories.js';

// ---- pure part -------------------------------------------------------------------------------------------

const proposal = (o: Partial<ProposalConflictFacts> = {}): ProposalConflictFacts => ({
  proposalId: 1,
  piUserId: 100,
  institutions: [
    { institutionId: 10, name: '复旦大学', isLead: true },
    { institutionId: 20, name: '南京大学', isLead: false },
  ],
  contactUserIds: [100, 101],
  leadProvinceCode: 'SH',
  noExpertFromLeadProvince: false,
  exclusions: [],
  ...o,
});
const expertF = (o: Partial<ExpertConflictFacts> & { userId: number }): ExpertConflictFacts => ({ name: `专家${o.userId}`, institutionId: 99, institutionNames: ['某大学'], provinceCode: 'AH', sanctions: [], ...o });
const NONE: ConflictDecisions = { declared: [], overrides: [] };
const causes = (cs: Conflict[], expertUserId: number) => cs.filter((c) => c.expertUserId === expertUserId).map((c) => c.cause);

describe('conflicts: each cause, with its code', () => {
  it('finds the expert at the lead or a partner institution (sameInstitution)', () => {
    const cs = conflictMatrix([proposal()], [expertF({ userId: 1, institutionId: 10 }), expertF({ userId: 2, institutionId: 20 }), expertF({ userId: 3 })], NONE);
    expect(cs.map((c) => [c.expertUserId, c.cause, c.detail.role])).to.deep.equal([
      [1, 'sameInstitution', 'lead'],
      [2, 'sameInstitution', 'partner'],
    ]);
    expect(cs[0]!.detail.institution).to.equal('复旦大学');
  });

  it('finds the PI and partner contacts (consortiumMember)', () => {
    const cs = conflictMatrix([proposal()], [expertF({ userId: 100 }), expertF({ userId: 101 })], NONE);
    expect(cs.map((c) => [c.expertUserId, c.cause, c.detail.role])).to.deep.equal([
      [100, 'consortiumMember', 'pi'],
      [101, 'consortiumMember', 'partnerContact'],
    ]);
  });

  it('finds a sanctioned expert (sanctioned), with the sanction', () => {
    const cs = conflictMatrix([proposal()], [expertF({ userId: 5, sanctions: [{ id: 77, provinceCode: 'JS', lastDay: '2027-12-31' }] })], NONE);
    expect(cs).to.deep.equal([{ proposalId: 1, expertUserId: 5, cause: 'sanctioned', detail: { sanctionId: 77, province: 'JS', until: '2027-12-31' }, lifted: null }]);
  });

  it("matches the applicant's exclusions by account, or by normalised name and institution (excludedByApplicant)", () => {
    const p = proposal({
      exclusions: [
        { expertUserId: 7, expertName: '完全不同的名字', expertInstitution: null, reason: '竞争关系' },
        { expertUserId: null, expertName: ' 王 芳 ', expertInstitution: '浙江大学（Zhejiang）', reason: '学术分歧' },
        { expertUserId: null, expertName: 'Li Lei', expertInstitution: null, reason: '合作者' },
      ],
    });
    const experts = [
      expertF({ userId: 7 }),
      expertF({ userId: 8, name: '王芳', institutionNames: ['浙江大学(Zhejiang)'] }),
      expertF({ userId: 9, name: '王芳', institutionNames: ['复旦大学'] }),
      expertF({ userId: 10, name: 'li lei' }),
    ];
    const cs = conflictMatrix([p], experts, NONE);
    expect(cs.map((c) => [c.expertUserId, c.cause, c.detail.matchedBy, c.detail.reason])).to.deep.equal([
      [7, 'excludedByApplicant', 'account', '竞争关系'],
      [8, 'excludedByApplicant', 'name', '学术分歧'],
      [10, 'excludedByApplicant', 'name', '合作者'],
    ]);
    expect(normaliseName('ＡＢＣ　Ｄ')).to.equal('abcd');
  });

  it('includes declared conflicts, the call rule on the lead province, and officers\' additions', () => {
    const p = proposal({ noExpertFromLeadProvince: true });
    const d: ConflictDecisions = {
      declared: [{ proposalId: 1, expertUserId: 3, reason: '曾指导申请人' }],
      overrides: [{ proposalId: 1, expertUserId: 4, kind: 'add', cause: 'officerAdded', reason: '近期合作' }],
    };
    const cs = conflictMatrix([p], [expertF({ userId: 2, provinceCode: 'SH' }), expertF({ userId: 3 }), expertF({ userId: 4 })], d);
    expect(cs.map((c) => [c.expertUserId, c.cause, c.detail])).to.deep.equal([
      [2, 'leadProvince', { province: 'SH' }],
      [3, 'declared', { reason: '曾指导申请人' }],
      [4, 'officerAdded', { reason: '近期合作' }],
    ]);
    expect(conflictMatrix([proposal()], [expertF({ userId: 2, provinceCode: 'SH' })], NONE)).to.deep.equal([]);
  });

  it('honours officers\' lifts of one cause, never of a sanction', () => {
    const e = expertF({ userId: 5, institutionId: 10, provinceCode: 'SH', sanctions: [{ id: 1, provinceCode: 'SH', lastDay: null }] });
    const d: ConflictDecisions = {
      declared: [],
      overrides: [
        { proposalId: 1, expertUserId: 5, kind: 'lift', cause: 'sameInstitution', reason: '已调离该单位' },
        { proposalId: 1, expertUserId: 5, kind: 'lift', cause: 'sanctioned', reason: '试图解除' },
      ],
    };
    const cs = conflictMatrix([proposal({ noExpertFromLeadProvince: true })], [e], d);
    expect(cs.map((c) => [c.cause, c.lifted])).to.deep.equal([
      ['sanctioned', null],
      ['sameInstitution', { reason: '已调离该单位' }],
      ['leadProvince', null],
    ]);
    expect(blocking(cs).map((c) => c.cause)).to.deep.equal(['sanctioned', 'leadProvince']);
    expect(blockingPairs(cs)).to.deep.equal([{ expertId: 5, proposalId: 1 }]);
    const onlyInst = conflictMatrix([proposal()], [expertF({ userId: 5, institutionId: 10 })], d);
    expect(blocking(onlyInst)).to.deep.equal([]);
    expect(forbiddenPairs(onlyInst).size).to.equal(0);
  });
});

// ---- property: the same answers as a plain reference ---------------------------------------------------

/** The rules written out pair by pair, cause by cause, as the issue states them. */
function reference(ps: ProposalConflictFacts[], es: ExpertConflictFacts[], d: ConflictDecisions): Array<[number, number, string, boolean]> {
  const out: Array<[number, number, string, boolean]> = [];
  const norm = (s: string) => s.normalize('NFKC').replace(/[\s\u00b7\u30fb.·]+/g, '').toLowerCase();
  for (const p of ps)
    for (const e of es) {
      const has: Record<string, boolean> = {
        sanctioned: e.sanctions.length > 0,
        consortiumMember: p.piUserId === e.userId || p.contactUserIds.includes(e.userId),
        sameInstitution: e.institutionId !== null && p.institutions.some((i) => i.institutionId === e.institutionId),
        excludedByApplicant: p.exclusions.some((x) =>
          x.expertUserId !== null ? x.expertUserId === e.userId : norm(x.expertName) === norm(e.name) && norm(x.expertName) !== '' && (!x.expertInstitution?.trim() || e.institutionNames.some((n) => norm(n) === norm(x.expertInstitution!))),
        ),
        declared: d.declared.some((x) => x.proposalId === p.proposalId && x.expertUserId === e.userId),
        leadProvince: p.noExpertFromLeadProvince && p.leadProvinceCode !== null && e.provinceCode === p.leadProvinceCode,
        officerAdded: d.overrides.some((o) => o.kind === 'add' && o.cause === 'officerAdded' && o.proposalId === p.proposalId && o.expertUserId === e.userId),
      };
      for (const cause of CONFLICT_CAUSES) {
        if (!has[cause]) continue;
        const lifted = cause !== 'sanctioned' && cause !== 'officerAdded' && d.overrides.some((o) => o.kind === 'lift' && o.cause === cause && o.proposalId === p.proposalId && o.expertUserId === e.userId);
        out.push([p.proposalId, e.userId, cause, lifted]);
      }
    }
  return out;
}

describe('conflicts: property against the reference', () => {
  it('gives the same conflicts and lifts as the plain reference on random small instances', () => {
    const uid = fc.integer({ min: 1, max: 6 });
    const inst = fc.integer({ min: 1, max: 4 });
    const prov = fc.constantFrom('SH', 'JS', 'ZJ', 'AH');
    const name = fc.constantFrom('王芳', '王 芳', '李雷', 'Li Lei', 'li lei', '');
    const instName = (i: number) => [`大学${i}`, `大学 ${i}`, `University ${i}`][i % 3]!;
    const proposalArb = fc.record({
      proposalId: fc.integer({ min: 1, max: 3 }),
      piUserId: uid,
      institutions: fc.uniqueArray(inst, { minLength: 1, maxLength: 3 }).map((ids) => ids.map((id, i) => ({ institutionId: id, name: instName(id), isLead: i === 0 }))),
      contactUserIds: fc.array(uid, { maxLength: 3 }),
      leadProvinceCode: fc.option(prov, { nil: null }),
      noExpertFromLeadProvince: fc.boolean(),
      exclusions: fc.array(
        fc.record({ expertUserId: fc.option(uid, { nil: null }), expertName: name, expertInstitution: fc.option(inst.map(instName), { nil: null }), reason: fc.constant('r') }),
        { maxLength: 3 },
      ),
    });
    const expertArb = fc.record({
      userId: uid,
      name,
      institutionId: fc.option(inst, { nil: null }),
      provinceCode: fc.option(prov, { nil: null }),
      sanctions: fc.array(fc.record({ id: fc.nat(), provinceCode: prov, lastDay: fc.constant(null) }), { maxLength: 1 }),
    });
    const causeArb = fc.constantFrom(...CONFLICT_CAUSES);
    const decisionsArb = fc.record({
      declared: fc.array(fc.record({ proposalId: fc.integer({ min: 1, max: 3 }), expertUserId: uid, reason: fc.constant('d') }), { maxLength: 4 }),
      overrides: fc.array(fc.record({ proposalId: fc.integer({ min: 1, max: 3 }), expertUserId: uid, kind: fc.constantFrom('add' as const, 'lift' as const), cause: causeArb, reason: fc.constant('o') }), { maxLength: 6 }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(proposalArb, { selector: (p) => p.proposalId, maxLength: 3 }), fc.uniqueArray(expertArb, { selector: (e) => e.userId, maxLength: 5 }), decisionsArb, (ps, raw, d) => {
        const es = raw.map((e) => ({ ...e, institutionNames: e.institutionId === null ? [] : [instName(e.institutionId)] }));
        // One decision per pair and cause, as the database's unique key guarantees.
        const seen = new Set<string>();
        const overrides = d.overrides.filter((o) => {
          const k = `${o.proposalId}:${o.expertUserId}:${o.kind === 'add' ? 'officerAdded' : o.cause}`;
          return !seen.has(k) && (seen.add(k), true);
        });
        const decisions = { declared: d.declared, overrides };
        const got = conflictMatrix(ps, es, decisions).map((c): [number, number, string, boolean] => [c.proposalId, c.expertUserId, c.cause, c.lifted !== null]);
        expect(got).to.deep.equal(reference(ps, es, decisions));
      }),
      { numRuns: 1500 },
    );
  });
});

// ---- loading and commands ------------------------------------------------------------------------------

describe('conflicts: loaded from the database, and officers\' decisions', () => {
  beforeEach(resetDb);

  async function scene() {
    const { sequelize } = await platform();
    const call = await makeCall({});
    const lead = await makeInstitution({ provinceCode: 'SH', nameZh: '上海甲大学' });
    const partner = await makeInstitution({ provinceCode: 'JS', nameZh: '江苏乙研究院' });
    const other = await makeInstitution({ provinceCode: 'ZJ', nameZh: '浙江丙大学' });
    const shOther = await makeInstitution({ provinceCode: 'SH', nameZh: '上海丁大学' });
    const pi = await makeUser({ name: '项目负责人', institutionId: lead.id });
    const contact = await makeUser({ name: '合作联系人', institutionId: partner.id, roles: [{ role: 'expert' }] });
    const colleague = await makeUser({ name: '同单位专家', institutionId: partner.id, roles: [{ role: 'expert' }] });
    const excludedById = await makeUser({ name: '被回避甲', institutionId: other.id, roles: [{ role: 'expert' }] });
    const excludedByName = await makeUser({ name: '钱 多多', institutionId: other.id, roles: [{ role: 'expert' }] });
    const sanctioned = await makeUser({ name: '失信专家', institutionId: other.id, roles: [{ role: 'expert' }] });
    const declaring = await makeUser({ name: '申报回避专家', institutionId: other.id, roles: [{ role: 'expert' }] });
    const sameProvince = await makeUser({ name: '同省专家', institutionId: shOther.id, roles: [{ role: 'expert' }] });
    const added = await makeUser({ name: '主管设定专家', institutionId: other.id, roles: [{ role: 'expert' }] });
    const free = await makeUser({ name: '无冲突专家', institutionId: other.id, roles: [{ role: 'expert' }] });
    const officer = await makeUser({ roles: [{ role: 'officer', provinceCode: 'SH' }] });
    const { proposal } = await makeSubmittedProposal({
      call,
      pi,
      partners: [{ institution: lead }, { institution: partner, contactUser: contact }],
      exclusions: [{ expertName: '钱多多', expertInstitution: '浙江丙大学', reason: '学术观点对立' }],
    });
    await ReviewerExclusion.create({ proposalId: proposal.id, expertName: '被回避甲', expertInstitution: null, expertUserId: excludedById.id, reason: '竞争团队' });
    await IntegritySanction.create({ subjectType: 'person', subjectUserId: sanctioned.id, subjectInstitutionId: null, subjectCreditCode: null, subjectName: '失信专家', provinceCode: 'AH', reason: 'r', legalBasis: 'b', startsAt: new Date(Date.now() - 86_400_000), endsAt: null, createdBy: null, updatedBy: null });
    const ctx = { ...SYSTEM, actorId: officer.id };
    expect(await declareConflict(sequelize, { ...SYSTEM, actorId: declaring.id }, declaring.id, proposal.id, '曾与负责人合著')).to.deep.equal({ ok: true });
    expect(await addConflict(sequelize, ctx, { proposalId: proposal.id, expertUserId: added.id, reason: '举报反映存在利益关系' })).to.deep.equal({ ok: true });
    await setNoExpertFromLeadProvince(sequelize, ctx, call.id, true);
    const experts = [pi, contact, colleague, excludedById, excludedByName, sanctioned, declaring, sameProvince, added, free];
    return { sequelize, call, proposal, ctx, experts, who: { pi, contact, colleague, excludedById, excludedByName, sanctioned, declaring, sameProvince, added, free } };
  }

  it('computes every cause for a proposal bundle, and the same for a whole call', async () => {
    const s = await scene();
    const bundle = (await loadBundle(s.proposal.id))!;
    const cs = await conflictsFor(s.sequelize, bundle, s.experts.map((e) => e.id));
    const byExpert = (id: number) => causes(cs, id);
    const w = s.who;
    expect(byExpert(w.pi.id)).to.deep.equal(['consortiumMember', 'sameInstitution', 'leadProvince']);
    expect(byExpert(w.contact.id)).to.deep.equal(['consortiumMember', 'sameInstitution']);
    expect(byExpert(w.colleague.id)).to.deep.equal(['sameInstitution']);
    expect(byExpert(w.excludedById.id)).to.deep.equal(['excludedByApplicant']);
    expect(byExpert(w.excludedByName.id)).to.deep.equal(['excludedByApplicant']);
    expect(byExpert(w.sanctioned.id)).to.deep.equal(['sanctioned']);
    expect(byExpert(w.declaring.id)).to.deep.equal(['declared']);
    expect(byExpert(w.sameProvince.id)).to.deep.equal(['leadProvince']);
    expect(byExpert(w.added.id)).to.deep.equal(['officerAdded']);
    expect(byExpert(w.free.id)).to.deep.equal([]);
    expect(cs.find((c) => c.expertUserId === w.declaring.id)!.detail).to.deep.equal({ reason: '曾与负责人合著' });
    const batch = await conflictsForProposals(s.sequelize, [s.proposal.id], s.experts.map((e) => e.id));
    expect(batch).to.deep.equal(cs);
    // A sanction that is not yet in force does not count.
    expect(causes(await conflictsFor(s.sequelize, bundle, [w.sanctioned.id], new Date(Date.now() - 2 * 86_400_000)), w.sanctioned.id)).to.deep.equal([]);
  });

  it('lets an officer lift a conflict with a reason (audited), never a sanction, and withdraw the lift', async () => {
    const s = await scene();
    const w = s.who;
    const ids = s.experts.map((e) => e.id);
    expect(await liftConflict(s.sequelize, s.ctx, { proposalId: s.proposal.id, expertUserId: w.sanctioned.id, cause: 'sanctioned', reason: '想解除' })).to.deep.equal({ ok: false, status: 403, reason: 'experts:conflicts.errors.notLiftable' });
    expect(await liftConflict(s.sequelize, s.ctx, { proposalId: s.proposal.id, expertUserId: w.free.id, cause: 'declared', reason: '无' })).to.deep.include({ ok: false, status: 400 });
    expect(await liftConflict(s.sequelize, s.ctx, { proposalId: s.proposal.id, expertUserId: w.colleague.id, cause: 'sameInstitution', reason: '' })).to.deep.include({ ok: false, reason: 'experts:conflicts.errors.reasonRequired' });
    expect(await liftConflict(s.sequelize, s.ctx, { proposalId: s.proposal.id, expertUserId: w.colleague.id, cause: 'sameInstitution', reason: '该专家已于上月调离' })).to.deep.equal({ ok: true });
    const after = await conflictsForProposals(s.sequelize, [s.proposal.id], ids);
    const lifted = after.find((c) => c.expertUserId === w.colleague.id)!;
    expect(lifted.lifted).to.deep.equal({ reason: '该专家已于上月调离' });
    expect(forbiddenPairs(after).has(`${s.proposal.id}:${w.colleague.id}`)).to.equal(false);
    expect(forbiddenPairs(after).has(`${s.proposal.id}:${w.sanctioned.id}`)).to.equal(true);
    const ev = (await AuditEvent.findOne({ where: { action: 'conflict.lift' } }))!;
    expect(ev.actorId).to.equal(s.ctx.actorId);
    expect(JSON.parse(ev.afterJson!)).to.include({ expertUserId: w.colleague.id, cause: 'sameInstitution', reason: '该专家已于上月调离' });

    expect(await withdrawOverride(s.sequelize, s.ctx, { proposalId: s.proposal.id, expertUserId: w.colleague.id, cause: 'sameInstitution', reason: '核实未调离' })).to.deep.equal({ ok: true });
    expect(forbiddenPairs(await conflictsForProposals(s.sequelize, [s.proposal.id], ids)).has(`${s.proposal.id}:${w.colleague.id}`)).to.equal(true);
    expect(await withdrawOverride(s.sequelize, s.ctx, { proposalId: s.proposal.id, expertUserId: w.added.id, cause: 'officerAdded', reason: '误加' })).to.deep.equal({ ok: true });
    expect(causes(await conflictsForProposals(s.sequelize, [s.proposal.id], ids), w.added.id)).to.deep.equal([]);
    expect(await AuditEvent.count({ where: { action: 'conflict.withdraw_override' } })).to.equal(2);
  });

  it('lets an expert withdraw a declaration, and audits the call rule change', async () => {
    const s = await scene();
    const w = s.who;
    expect(await withdrawDeclaredConflict(s.sequelize, { ...SYSTEM, actorId: w.declaring.id }, w.declaring.id, s.proposal.id)).to.deep.equal({ ok: true });
    expect(causes(await conflictsForProposals(s.sequelize, [s.proposal.id], [w.declaring.id]), w.declaring.id)).to.deep.equal([]);
    expect(await AuditEvent.count({ where: { action: 'conflict.declare' } })).to.equal(1);
    expect(await AuditEvent.count({ where: { action: 'conflict.withdraw_declaration' } })).to.equal(1);
    const rule = (await AuditEvent.findOne({ where: { action: 'call.set_conflict_rule' } }))!;
    expect(JSON.parse(rule.afterJson!)).to.deep.equal({ noExpertFromLeadProvince: true });
  });
});
