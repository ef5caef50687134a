/**
 * A proposal with everything that belongs to it, loaded in a few queries (no N+1), and its immutable
 * submission snapshot. Used by the editor, the sign-off and screening pages, exports and submission.
 */
import { createHash } from 'node:crypto';
import { Op, type Transaction } from 'sequelize';
import { Institution } from '../people/models.js';
import { Call } from '../calls/models.js';
import type { InstitutionType } from '../people/rules.js';
import { ReviewAssignment } from '../review/review-models.js';
import { Attachment, BudgetLine, Proposal, ProposalPartner, ReviewerExclusion } from './models.js';
import type { ProposalAccessFacts } from './policy.js';
import type { PartnerFacts } from './rules.js';

export interface PartnerRow {
  id: number;
  institutionId: number;
  institutionName: string;
  institutionNameEn: string | null;
  institutionType: InstitutionType;
  provinceCode: string;
  isLead: boolean;
  role: string | null;
  contactUserId: number | null;
  selfFundedFen: number;
  confirmedAt: Date | null;
  requestedFen: number;
}

export interface ProposalBundle {
  proposal: Proposal;
  endorsementRequired: boolean;
  partners: PartnerRow[];
  lines: Array<{ id: number; partnerId: number; year: number; category: string; amountFen: number }>;
  attachments: Array<{ id: number; kind: string; originalName: string; sizeBytes: number; mime: string; sha256: string; createdAt: Date }>;
  exclusions: Array<{ id: number; expertName: string; expertInstitution: string | null; reason: string }>;
  /** Experts with an accepted review assignment: for the access decision only, never shown. */
  reviewerUserIds?: number[];
}

export async function loadBundle(proposalId: number, transaction?: Transaction): Promise<ProposalBundle | null> {
  const proposal = await Proposal.findByPk(proposalId, { transaction });
  if (!proposal) return null;
  const [call, partners, lines, attachments, exclusions, reviewers] = await Promise.all([
    Call.findByPk(proposal.callId, { attributes: ['endorsementRequired'], raw: true, transaction }),
    ProposalPartner.findAll({ where: { proposalId }, order: [['isLead', 'DESC'], ['sortOrder', 'ASC'], ['id', 'ASC']], transaction }),
    BudgetLine.findAll({ where: { proposalId }, order: [['partnerId', 'ASC'], ['year', 'ASC'], ['category', 'ASC']], transaction }),
    Attachment.findAll({ where: { proposalId }, order: [['id', 'ASC']], transaction }),
    ReviewerExclusion.findAll({ where: { proposalId }, order: [['id', 'ASC']], transaction }),
    ReviewAssignment.findAll({ where: { proposalId, status: 'accepted' }, attributes: ['expertUserId'], raw: true, transaction }),
  ]);
  const institutions = new Map(
    (await Institution.findAll({ where: { id: { [Op.in]: partners.map((p) => p.institutionId) } }, raw: true, transaction })).map((i) => [i.id, i]),
  );
  const requested = new Map<number, number>();
  for (const l of lines) requested.set(l.partnerId, (requested.get(l.partnerId) ?? 0) + l.amountFen);
  return {
    proposal,
    endorsementRequired: !!call?.endorsementRequired,
    partners: partners.map((p) => {
      const inst = institutions.get(p.institutionId);
      return {
        id: p.id,
        institutionId: p.institutionId,
        institutionName: inst?.nameZh ?? '',
        institutionNameEn: inst?.nameEn ?? null,
        institutionType: (inst?.type ?? 'other') as InstitutionType,
        provinceCode: p.provinceCode,
        isLead: !!p.isLead,
        role: p.role,
        contactUserId: p.contactUserId,
        selfFundedFen: p.selfFundedFen,
        confirmedAt: p.confirmedAt ?? null,
        requestedFen: requested.get(p.id) ?? 0,
      };
    }),
    lines: lines.map((l) => ({ id: l.id, partnerId: l.partnerId, year: l.year, category: l.category, amountFen: l.amountFen })),
    attachments: attachments.map((a) => ({ id: a.id, kind: a.kind, originalName: a.originalName, sizeBytes: a.sizeBytes, mime: a.mime, sha256: a.sha256, createdAt: a.createdAt })),
    exclusions: exclusions.map((e) => ({ id: e.id, expertName: e.expertName, expertInstitution: e.expertInstitution, reason: e.reason })),
    reviewerUserIds: reviewers.map((r) => r.expertUserId),
  };
}

export function accessFacts(b: ProposalBundle): ProposalAccessFacts {
  return {
    piUserId: b.proposal.piUserId,
    status: b.proposal.status,
    leadInstitutionId: b.proposal.leadInstitutionId,
    endorsementRequired: b.endorsementRequired,
    partners: b.partners.map((p) => ({ provinceCode: p.provinceCode, contactUserId: p.contactUserId })),
    reviewerUserIds: b.reviewerUserIds ?? [],
  };
}

export function partnerFacts(b: ProposalBundle): PartnerFacts[] {
  return b.partners.map((p) => ({
    institutionId: p.institutionId,
    provinceCode: p.provinceCode,
    type: p.institutionType,
    isLead: p.isLead,
    requestedFen: p.requestedFen,
    selfFundedFen: p.selfFundedFen,
    confirmed: p.confirmedAt !== null,
  }));
}

/** The submitted content as canonical JSON (stable key order) and its sha256. */
export function snapshotOf(b: ProposalBundle): { json: string; sha256: string } {
  const p = b.proposal;
  const doc = {
    proposal: { id: p.id, callId: p.callId, topicId: p.topicId, piUserId: p.piUserId, leadInstitutionId: p.leadInstitutionId, title: p.title, titleEn: p.titleEn, abstract: p.abstract, keywords: p.keywords, disciplineCode: p.disciplineCode, durationMonths: p.durationMonths },
    partners: b.partners.map((x) => ({ id: x.id, institutionId: x.institutionId, institutionName: x.institutionName, provinceCode: x.provinceCode, isLead: x.isLead, role: x.role, contactUserId: x.contactUserId, requestedFen: x.requestedFen, selfFundedFen: x.selfFundedFen, confirmedAt: x.confirmedAt?.toISOString() ?? null })),
    budgetLines: b.lines.map((l) => ({ partnerId: l.partnerId, year: l.year, category: l.category, amountFen: l.amountFen })),
    attachments: b.attachments.map((a) => ({ id: a.id, kind: a.kind, originalName: a.originalName, sizeBytes: a.sizeBytes, sha256: a.sha256 })),
    exclusions: b.exclusions.map((e) => ({ expertName: e.expertName, expertInstitution: e.expertInstitution, reason: e.reason })),
  };
  const json = JSON.stringify(doc);
  return { json, sha256: createHash('sha256').update(json).digest('hex') };
}
