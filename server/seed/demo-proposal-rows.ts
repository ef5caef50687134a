/**
 * The proposal-row generator shared by the demo calls: from in-memory drafts (title, PI, consortium with
 * requests and self-funding, duration, status), the proposal, partner, budget-line, attachment and submission rows
 * with ids assigned here, the submission snapshot computed from the same rows the database will hold, and one bulk
 * insert. Every submitted proposal carries a file for each attachment kind its call requires (a small generated
 * PDF, stored in the upload area as an upload would be), so that it passes the checklist it was submitted under
 * and an officer can open its files.
 * Pure of any one call's choices: demo-proposals.ts (the published call) and demo-review.ts (the call in review)
 * decide the drafts.
 */
import { createHash } from 'node:crypto';
import type { CreationAttributes, Transaction } from 'sequelize';
import type { AttachmentKind } from '../calls/rules.js';
import type { InstitutionType } from '../people/rules.js';
import { snapshotOf, type PartnerRow } from '../proposals/bundle.js';
import { Attachment, BudgetLine, Proposal, ProposalPartner, ProposalSubmission } from '../proposals/models.js';
import { storeBytes, type UploadArea } from '../platform/storage.js';
import { refreshProposalFacts } from '../proposals/facts.js';
import { receiptNumber, type ProposalStatus } from '../proposals/rules.js';
import { DEMO_TOPICS, INELIGIBLE_REASONS } from './demo-data.js';
import { demoPdf } from './demo-pdf.js';

export const WAN = 1_000_000; // 1 万元 in fen
export const HOUR = 3600_000;
export const DAY = 24 * HOUR;

export type Inst = { id: number; nameZh: string; nameEn: string | null; provinceCode: string; type: InstitutionType };
export type Flaw = 'none' | 'maxTotalRequest' | 'maxPerPartner' | 'duration' | 'enterpriseSelfFunding' | 'piLimit';

export interface Draft {
  id: number;
  title: string;
  piUserId: number;
  topic: number;
  lead: Inst;
  partners: Array<{ inst: Inst; requestedFen: number; selfFundedFen: number; contactUserId: number | null }>;
  durationMonths: number;
  status: ProposalStatus;
  flaw: Flaw;
}

export const seconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);

/** Split `fen` into `n` integer parts (multiples of 100 元 but the last) that add up exactly. */
function split(fen: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const parts = weights.map((w) => Math.floor((fen * w) / sum / 10_000) * 10_000);
  parts[parts.length - 1]! += fen - parts.reduce((a, b) => a + b, 0);
  return parts;
}

/** Consortia of `n` institutions led by `lead`: the second from another province, the rest from any. */
export function consortiumPicker(provinces: string[], inProvince: Map<string, Inst[]>, pickOf: <T>(xs: readonly T[]) => T) {
  return (lead: Inst, n: number): Inst[] => {
    const members = [lead];
    const others = provinces.filter((p) => p !== lead.provinceCode);
    while (members.length < n) {
      const province = members.length === 1 ? pickOf(others) : pickOf(provinces);
      const inst = pickOf(inProvince.get(province)!);
      if (!members.some((m) => m.id === inst.id)) members.push(inst);
    }
    return members;
  };
}

/** Requests and self-funding of each member (the flaw breaks the matching rule), with its contact person. */
export function partnerBudgets(members: Inst[], flaw: Flaw, rand: () => number, between: (lo: number, hi: number) => number, contactOf: (inst: Inst, i: number) => number | null): Draft['partners'] {
  return members.map((inst, i) => {
    let requestedFen = (i === 0 ? between(80, 200) : between(30, 120)) * WAN + between(0, 9) * 100_000;
    if (flaw === 'maxTotalRequest') requestedFen = (i === 0 ? 280 : 180) * WAN;
    if (flaw === 'maxPerPartner' && i === 0) requestedFen = between(310, 340) * WAN;
    if (flaw === 'maxPerPartner' && i > 0) requestedFen = between(20, 60) * WAN;
    const enterprise = inst.type === 'enterprise';
    const selfFundedFen = enterprise ? (rand() < 0.35 ? Math.floor(requestedFen / 2) : requestedFen + between(0, 50) * WAN) : rand() < 0.5 ? 0 : Math.floor((requestedFen * between(10, 30)) / 100 / 100_000) * 100_000;
    return { inst, requestedFen, selfFundedFen, contactUserId: contactOf(inst, i) };
  });
}

export interface RowContext {
  callId: number;
  /** Topic ids of the call, in DEMO_TOPICS order. */
  topicIds: number[];
  /** Submissions fall 6 hours to 6 days before this instant; endorsement and screening follow, before it. */
  nowMs: number;
  rand: () => number;
  between: (lo: number, hi: number) => number;
  /** The first partner-row and attachment ids to use. */
  nextPartner: number;
  nextAttachment: number;
  /** The call's attachment kinds: a submitted proposal gets a file for each required one. */
  attachmentKinds: AttachmentKind[];
  officerOf: (province: string) => number | null;
  /** The research office that endorses proposals led by `endorserInstitutionId`. */
  office: number | null;
  endorserInstitutionId: number;
}

export interface ProposalRows {
  proposals: Array<CreationAttributes<Proposal>>;
  partnerRows: Array<CreationAttributes<ProposalPartner>>;
  lineRows: Array<{ proposalId: number; partnerId: number; year: number; category: string; amountFen: number }>;
  submissions: Array<CreationAttributes<ProposalSubmission>>;
  /** Attachment rows without their stored name (given when the file is stored), each with its file's bytes. */
  attachments: Array<{ row: Omit<CreationAttributes<Attachment>, 'storedName'>; bytes: Buffer }>;
}

const LEAD_CATEGORIES = ['equipment', 'materials', 'testing', 'labour', 'indirect'];
const PARTNER_CATEGORIES = ['materials', 'travel', 'labour', 'indirect'];

/** The rows of the drafts (deterministic for a given PRNG state). */
export function buildProposalRows(drafts: Draft[], c: RowContext): ProposalRows {
  const { nowMs, between, rand } = c;
  let nextPartner = c.nextPartner;
  let nextAttachment = c.nextAttachment;
  const requiredKinds = c.attachmentKinds.filter((k) => k.required);
  const out: ProposalRows = { proposals: [], partnerRows: [], lineRows: [], submissions: [], attachments: [] };
  const failedRule = (d: Draft) => (d.flaw === 'none' ? 'other' : d.flaw);
  for (const d of drafts) {
    const submitted = d.status !== 'draft';
    const submittedAt = seconds(nowMs - between(6, 6 * 24) * HOUR - between(0, 3599) * 1000);
    const endorsedAt = d.status !== 'draft' && d.status !== 'submitted' ? seconds(Math.min(submittedAt.getTime() + between(2, 48) * HOUR, nowMs - 2 * HOUR)) : null;
    const screenedAt = endorsedAt && (d.status === 'eligible' || d.status === 'ineligible') ? seconds(Math.min(endorsedAt.getTime() + between(1, 24) * HOUR, nowMs - HOUR)) : null;
    const topic = DEMO_TOPICS[d.topic]!;
    const years = Math.ceil(d.durationMonths / 12);
    const rows: Array<Omit<PartnerRow, 'creditCode'>> = d.partners.map((p, i) => ({
      id: nextPartner++,
      institutionId: p.inst.id,
      institutionName: p.inst.nameZh,
      institutionNameEn: p.inst.nameEn,
      institutionType: p.inst.type,
      provinceCode: p.inst.provinceCode,
      isLead: i === 0,
      role: i === 0 ? '牵头单位：总体方案设计与组织协调' : '合作单位：承担子课题研究与区域应用示范',
      contactUserId: p.contactUserId,
      selfFundedFen: p.selfFundedFen,
      confirmedAt: i === 0 || !submitted ? null : seconds(submittedAt.getTime() - DAY),
      requestedFen: p.requestedFen,
    }));
    const lines = rows.flatMap((row) => {
      const cats = row.isLead ? LEAD_CATEGORIES : PARTNER_CATEGORIES;
      const cells = Array.from({ length: years }, (_, y) => cats.map((category) => ({ year: y + 1, category }))).flat();
      const amounts = split(row.requestedFen, cells.map(() => 1 + rand() * 3));
      return cells.map((c, i) => ({ proposalId: d.id, partnerId: row.id, year: c.year, category: c.category, amountFen: amounts[i]! }));
    });
    lines.sort((a, b) => a.partnerId - b.partnerId || a.year - b.year || (a.category < b.category ? -1 : a.category > b.category ? 1 : 0));
    const receiptNo = submitted ? receiptNumber(c.callId, d.id, submittedAt, 1) : null;
    const proposal = {
      id: d.id,
      callId: c.callId,
      topicId: c.topicIds[d.topic]!,
      piUserId: d.piUserId,
      leadInstitutionId: d.lead.id,
      title: d.title,
      titleEn: null,
      abstract: `本项目面向长三角一体化发展的重大需求，围绕“${d.title}”开展跨省市联合攻关。由${d.lead.nameZh}牵头，联合${rows.slice(1).map((r) => r.institutionName).join('、')}，在${topic.titleZh}方向上整合三省一市的数据、平台与人才资源，形成可复制推广的理论成果与应用示范。`,
      keywords: topic.keywords.join('；'),
      disciplineCode: 'G',
      durationMonths: d.durationMonths,
      status: d.status,
      version: submitted ? 1 : 0,
      receiptNo,
      submittedAt: submitted ? submittedAt : null,
      endorsedBy: endorsedAt && d.lead.id === c.endorserInstitutionId ? c.office : null,
      endorsedAt,
      returnReason: null,
      screenedBy: screenedAt ? c.officerOf(d.lead.provinceCode) : null,
      screenedAt,
      screeningReason: screenedAt && d.status === 'ineligible' ? INELIGIBLE_REASONS[failedRule(d)]! : null,
      createdAt: seconds(submittedAt.getTime() - 3 * DAY),
      updatedAt: screenedAt ?? endorsedAt ?? submittedAt,
    };
    out.proposals.push(proposal);
    out.partnerRows.push(...rows.map((r, i) => ({ id: r.id, proposalId: d.id, institutionId: r.institutionId, provinceCode: r.provinceCode, isLead: r.isLead, role: r.role, contactUserId: r.contactUserId, selfFundedFen: r.selfFundedFen, confirmedAt: r.confirmedAt, confirmedBy: null, sortOrder: i })));
    out.lineRows.push(...lines);
    if (submitted) {
      const files = requiredKinds.map((k) => {
        const bytes = demoPdf([`${k.nameEn} (demo file)`, `Proposal ${d.id}, receipt number ${receiptNo}`, 'YRD Joint Research Platform demo dataset: a stand-in for the file a PI uploads.']);
        const row = { id: nextAttachment++, proposalId: d.id, kind: k.code, originalName: `${k.nameZh}.pdf`, sizeBytes: bytes.length, mime: 'application/pdf', sha256: createHash('sha256').update(bytes).digest('hex'), uploadedBy: d.piUserId, createdAt: seconds(submittedAt.getTime() - DAY) };
        out.attachments.push({ row, bytes });
        return row;
      });
      const bundle: Parameters<typeof snapshotOf>[0] = { proposal: proposal as unknown as Proposal, partners: rows.map((r) => ({ ...r, creditCode: null })), lines: lines.map((l, i) => ({ id: i + 1, ...l })), attachments: files, exclusions: [] };
      const snap = snapshotOf(bundle);
      out.submissions.push({ proposalId: d.id, idempotencyKey: `demo-${d.id}`, receiptNo: receiptNo!, snapshot: snap.json, snapshotSha256: snap.sha256, submittedBy: d.piUserId, createdAt: submittedAt });
    }
  }


  return out;
}

/** Inserts the rows in chunks (parents first), storing the attachment files in `area` first. */
export async function insertProposalRows(t: Transaction, r: ProposalRows, area: UploadArea): Promise<void> {
  const chunked = async <T>(rows: T[], insert: (chunk: T[]) => Promise<unknown>, size = 500) => {
    for (let i = 0; i < rows.length; i += size) await insert(rows.slice(i, i + size));
  };
  await chunked(r.proposals, (c) => Proposal.bulkCreate(c, { transaction: t }));
  await chunked(r.partnerRows, (c) => ProposalPartner.bulkCreate(c, { transaction: t }));
  await chunked(r.lineRows, (c) => BudgetLine.bulkCreate(c, { transaction: t }), 1000);
  // The screening list reads each proposal's facts (totals, provinces, lead) from its own row.
  await chunked(r.proposals.map((p) => p.id!), (ids) => refreshProposalFacts(Proposal.sequelize!, ids, t));
  const attachments = [];
  for (const a of r.attachments) attachments.push({ ...a.row, storedName: (await storeBytes(area, a.bytes)).storedName });
  await chunked(attachments, (c) => Attachment.bulkCreate(c, { transaction: t }));
  await chunked(r.submissions, (c) => ProposalSubmission.bulkCreate(c, { transaction: t }), 100);
}
