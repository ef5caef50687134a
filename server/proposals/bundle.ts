/**
 * A proposal with everything that belongs to it, loaded in a few queries (no N+1), and its immutable
 * submission snapshot. Used by the editor, the sign-off and screening pages, exports and submission.
 */
import { createHash } from 'node:crypto';
import type { Transaction } from 'sequelize';
import type { InstitutionType } from '../people/rules.js';
import { instanceFromRow, sqlOf, toBool, toDate } from '../platform/sql.js';
import { Proposal } from './models.js';
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

/**
 * The bundle in plain SQL (platform/sql.ts): the proposal with its call's endorsement flag, then the partners
 * (with their institutions), lines, attachments, exclusions and accepted reviewers side by side. Every editor
 * page, every submit and every receipt reads it, so its six statements are prepared once.
 */
export async function loadBundle(proposalId: number, transaction?: Transaction): Promise<ProposalBundle | null> {
  const sql = sqlOf(Proposal.sequelize!);
  const row = await sql.one<Record<string, unknown>>('SELECT p.*, c.endorsement_required AS call_endorsement_required FROM proposals p JOIN calls c ON c.id = p.call_id WHERE p.id = ?', [proposalId], transaction);
  if (!row) return null;
  type PartnerSql = { id: number; institution_id: number; province_code: string; is_lead: unknown; role: string | null; contact_user_id: number | null; self_funded_fen: number | string; confirmed_at: unknown; name_zh: string | null; name_en: string | null; type: string | null };
  type LineSql = { id: number; partner_id: number; year: number; category: string; amount_fen: number | string };
  type AttachmentSql = { id: number; kind: string; original_name: string; size_bytes: number | string; mime: string; sha256: string; created_at: unknown };
  type ExclusionSql = { id: number; expert_name: string; expert_institution: string | null; reason: string };
  const [partners, lines, attachments, exclusions, reviewers] = await Promise.all([
    sql.all<PartnerSql>(
      `SELECT pp.id, pp.institution_id, pp.province_code, pp.is_lead, pp.role, pp.contact_user_id, pp.self_funded_fen, pp.confirmed_at, i.name_zh, i.name_en, i.type
       FROM proposal_partners pp LEFT JOIN institutions i ON i.id = pp.institution_id WHERE pp.proposal_id = ? ORDER BY pp.is_lead DESC, pp.sort_order ASC, pp.id ASC`,
      [proposalId],
      transaction,
    ),
    sql.all<LineSql>('SELECT id, partner_id, year, category, amount_fen FROM budget_lines WHERE proposal_id = ? ORDER BY partner_id ASC, year ASC, category ASC', [proposalId], transaction),
    sql.all<AttachmentSql>('SELECT id, kind, original_name, size_bytes, mime, sha256, created_at FROM attachments WHERE proposal_id = ? ORDER BY id ASC', [proposalId], transaction),
    sql.all<ExclusionSql>('SELECT id, expert_name, expert_institution, reason FROM reviewer_exclusions WHERE proposal_id = ? ORDER BY id ASC', [proposalId], transaction),
    sql.all<{ expert_user_id: number }>("SELECT expert_user_id FROM review_assignments WHERE proposal_id = ? AND status = 'accepted'", [proposalId], transaction),
  ]);
  const requested = new Map<number, number>();
  for (const l of lines) requested.set(l.partner_id, (requested.get(l.partner_id) ?? 0) + Number(l.amount_fen));
  return {
    proposal: instanceFromRow(Proposal, row),
    endorsementRequired: toBool(row.call_endorsement_required),
    partners: partners.map((p) => ({
      id: p.id,
      institutionId: p.institution_id,
      institutionName: p.name_zh ?? '',
      institutionNameEn: p.name_en ?? null,
      institutionType: (p.type ?? 'other') as InstitutionType,
      provinceCode: p.province_code,
      isLead: toBool(p.is_lead),
      role: p.role,
      contactUserId: p.contact_user_id,
      selfFundedFen: Number(p.self_funded_fen),
      confirmedAt: toDate(p.confirmed_at),
      requestedFen: requested.get(p.id) ?? 0,
    })),
    lines: lines.map((l) => ({ id: l.id, partnerId: l.partner_id, year: l.year, category: l.category, amountFen: Number(l.amount_fen) })),
    attachments: attachments.map((a) => ({ id: a.id, kind: a.kind, originalName: a.original_name, sizeBytes: Number(a.size_bytes), mime: a.mime, sha256: a.sha256, createdAt: toDate(a.created_at)! })),
    exclusions: exclusions.map((e) => ({ id: e.id, expertName: e.expert_name, expertInstitution: e.expert_institution, reason: e.reason })),
    reviewerUserIds: reviewers.map((r) => r.expert_user_id),
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
