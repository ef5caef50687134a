/** Fixtures of the assignment tests: an in-review call with eligible proposals and a pool of experts. */
import { User, UserRole } from '../../server/people/models.js';
import { roleScopeKey } from '../../server/people/rules.js';
import { Proposal, ProposalPartner } from '../../server/proposals/models.js';
import { ExpertDiscipline, ExpertProfile } from '../../server/review/models.js';
import { makeCall } from '../support/call-factories.js';
import { makeInstitution, makeUser, passwordHash } from '../support/factories.js';

const PROVINCES = ['SH', 'JS', 'ZJ', 'AH'];

async function makePoolExpert(n: number, provinceCode: string, institutionId?: number) {
  const inst = institutionId ?? (await makeInstitution({ provinceCode })).id;
  const user = await User.create({ email: `pool.expert${n}@example.org`, name: `池专家${n}号`, passwordHash: await passwordHash(), institutionId: inst, lang: 'zh-CN', emailVerifiedAt: new Date(), disabledAt: null });
  await UserRole.create({ userId: user.id, role: 'expert', provinceCode: null, institutionId: null, scopeKey: roleScopeKey({ role: 'expert' }), grantedBy: null });
  await ExpertProfile.create({ userId: user.id, title: '教授', keywords: n % 2 ? '集成电路; 先进封装' : '生物医药; 药物', bio: n % 2 ? '集成电路封装可靠性' : '创新药物研发', available: true, maxLoad: 2 });
  await ExpertDiscipline.create({ userId: user.id, code: n % 2 ? 'F0401' : 'H3001', sortOrder: 0 });
  return user;
}

/** An in-review call (k = 3), 4 eligible proposals (SH lead + JS partner), 10 experts over 4 provinces, one conflict. */
export async function world() {
  const call = await makeCall({ status: 'in_review', reviewersPerProposal: 3, pledges: ['SH', 'JS', 'ZJ'].map((provinceCode) => ({ provinceCode, amountFen: 100_000_000 })) });
  const proposals: Proposal[] = [];
  const leadInsts: number[] = [];
  for (let i = 0; i < 4; i++) {
    const lead = await makeInstitution({ provinceCode: 'SH' });
    const partner = await makeInstitution({ provinceCode: 'JS' });
    const pi = await makeUser({ institutionId: lead.id, email: `pi${i}@example.org` });
    const p = await Proposal.create({
      callId: call.id,
      topicId: null,
      piUserId: pi.id,
      leadInstitutionId: lead.id,
      title: `长三角联合项目${i}号`,
      titleEn: null,
      abstract: i % 2 ? '集成电路先进封装可靠性研究' : '创新药物联合研发',
      keywords: i % 2 ? '集成电路; 先进封装' : '生物医药',
      disciplineCode: i % 2 ? 'F0401' : 'H3001',
      durationMonths: 24,
      status: 'eligible',
      receiptNo: `YRD-A-${i}`,
      submittedAt: new Date(),
    });
    await ProposalPartner.create({ proposalId: p.id, institutionId: lead.id, provinceCode: 'SH', isLead: true, role: '牵头', contactUserId: pi.id, sortOrder: 0 });
    await ProposalPartner.create({ proposalId: p.id, institutionId: partner.id, provinceCode: 'JS', isLead: false, role: '参与', contactUserId: null, sortOrder: 1 });
    proposals.push(p);
    leadInsts.push(lead.id);
  }
  const experts: User[] = [];
  // Expert 0 works at proposal 0's lead institution: a conflict (same institution).
  experts.push(await makePoolExpert(0, 'SH', leadInsts[0]));
  for (let n = 1; n < 10; n++) experts.push(await makePoolExpert(n, PROVINCES[n % 4]!));
  const officer = await makeUser({ email: 'officer.assign@example.org', roles: [{ role: 'officer', provinceCode: 'ZJ' }] });
  return { call, proposals, experts, officer };
}

