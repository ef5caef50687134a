/**
 * Proposal factories: a joint proposal created directly through the models, with its consortium (the first
 * partner leads), budget lines adding up to each partner's request, and — unless it stays a draft — a receipt
 * and an immutable submission snapshot made by `snapshotOf(loadBundle(…))`, like a real submission.
 */
import { CallTopic, type Call } from '../../server/calls/models.js';
import type { Institution, User } from '../../server/people/models.js';
import { loadBundle, snapshotOf } from '../../server/proposals/bundle.js';
import { BudgetLine, Proposal, ProposalPartner, ProposalSubmission, ReviewerExclusion } from '../../server/proposals/models.js';
import { refreshProposalFacts } from '../../server/proposals/facts.js';
import { receiptNumber, type ProposalStatus } from '../../server/proposals/rules.js';

let seq = 0;

export interface PartnerSpec {
  institution: Pick<Institution, 'id' | 'provinceCode'>;
  /** Default: the institution's province. */
  province?: string;
  /** Requested public money in fen (budget lines are made to add up to it); default 500,000 元. */
  requestedFen?: number;
  selfFundedFen?: number;
  /** Default: the PI for the lead, nobody for the others. */
  contactUser?: Pick<User, 'id'> | null;
  /** Non-lead partners are confirmed by default once submitted. */
  confirmed?: boolean;
}

export interface ProposalOptions {
  call: Pick<Call, 'id' | 'endorsementRequired'>;
  pi: Pick<User, 'id'>;
  /** The consortium; the first partner is the lead. */
  partners: PartnerSpec[];
  status?: ProposalStatus;
  title?: string;
  keywords?: string;
  durationMonths?: number | null;
  submittedAt?: Date;
  /** Experts the applicant asks to exclude (never shown to officers' exports). */
  exclusions?: Array<{ expertName: string; expertInstitution?: string; reason: string }>;
  returnReason?: string | null;
  screeningReason?: string | null;
}

export async function makeSubmittedProposal(o: ProposalOptions) {
  const n = ++seq;
  const status = o.status ?? 'submitted';
  const topic = await CallTopic.findOne({ where: { callId: o.call.id }, order: [['sortOrder', 'ASC']] });
  const lead = o.partners[0]!;
  const proposal = await Proposal.create({
    callId: o.call.id,
    topicId: topic?.id ?? null,
    piUserId: o.pi.id,
    leadInstitutionId: lead.institution.id,
    title: o.title ?? `长三角联合攻关测试项目${n}`,
    titleEn: null,
    abstract: '本项目面向长三角区域协同创新的重大需求，开展跨省市联合攻关研究，形成可推广的成果与应用示范，服务一体化发展。',
    keywords: o.keywords ?? '协同创新；区域治理',
    disciplineCode: 'G',
    durationMonths: o.durationMonths === undefined ? 24 : o.durationMonths,
    status: 'draft',
  });
  const submittedAt = new Date(Math.floor((o.submittedAt ?? new Date(Date.now() - 3600_000)).getTime() / 1000) * 1000);
  const submitted = status !== 'draft';
  const partners = [];
  for (const [i, p] of o.partners.entries()) {
    const partner = await ProposalPartner.create({
      proposalId: proposal.id,
      institutionId: p.institution.id,
      provinceCode: p.province ?? p.institution.provinceCode,
      isLead: i === 0,
      role: i === 0 ? '牵头单位' : '合作单位',
      contactUserId: p.contactUser === undefined ? (i === 0 ? o.pi.id : null) : (p.contactUser?.id ?? null),
      selfFundedFen: p.selfFundedFen ?? 0,
      confirmedAt: i > 0 && submitted && p.confirmed !== false ? submittedAt : null,
      confirmedBy: null,
      sortOrder: i,
    });
    const requested = p.requestedFen ?? 50_000_000;
    if (requested > 0) {
      const first = Math.floor(requested / 2);
      await BudgetLine.bulkCreate([
        { proposalId: proposal.id, partnerId: partner.id, year: 1, category: 'equipment', amountFen: first },
        { proposalId: proposal.id, partnerId: partner.id, year: 2, category: 'labour', amountFen: requested - first },
      ]);
    }
    partners.push(partner);
  }
  await refreshProposalFacts(Proposal.sequelize!, [proposal.id], undefined);
  for (const e of o.exclusions ?? []) await ReviewerExclusion.create({ proposalId: proposal.id, expertName: e.expertName, expertInstitution: e.expertInstitution ?? null, expertUserId: null, reason: e.reason });
  if (submitted) {
    const snap = snapshotOf((await loadBundle(proposal.id))!);
    const receiptNo = receiptNumber(o.call.id, proposal.id, submittedAt, 1);
    await ProposalSubmission.create({ proposalId: proposal.id, idempotencyKey: `test-${proposal.id}-${n}`, receiptNo, snapshot: snap.json, snapshotSha256: snap.sha256, submittedBy: o.pi.id, createdAt: submittedAt });
    const endorsed = o.call.endorsementRequired && status !== 'submitted';
    const screened = status === 'eligible' || status === 'ineligible';
    await proposal.update({
      status,
      receiptNo,
      submittedAt,
      version: 1,
      endorsedAt: endorsed ? submittedAt : null,
      screenedAt: screened ? submittedAt : null,
      screeningReason: o.screeningReason ?? (status === 'ineligible' ? '材料不完整' : null),
    });
  } else if (o.returnReason) {
    await proposal.update({ returnReason: o.returnReason });
  }
  return { proposal, partners };
}
