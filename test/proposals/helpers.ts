/** Helpers of the proposal tests: a complete draft built directly in the database, and small HTTP utilities. */
import { randomBytes } from 'node:crypto';
import { CallTopic } from '../../server/calls/models.js';
import { Attachment, BudgetLine, Proposal, ProposalPartner } from '../../server/proposals/models.js';
import { makeCall, type CallOptions } from '../support/call-factories.js';
import { makeInstitution, makeUser } from '../support/factories.js';
import type { Agent } from '../support/agent.js';

export const ABSTRACT = '本项目面向长三角区域集成电路产业的共性关键技术需求，联合沪苏浙皖四地优势单位开展协同攻关，研究先进封装与异构集成的可靠性问题，形成可推广的技术方案与标准草案。';

/**
 * A draft that passes every check: PI at a Shanghai university (lead), a confirmed Jiangsu partner with its own
 * contact, budget lines for both, the two required attachments (rows only), 24 months, a topic.
 */
export async function makeCompleteDraft(o: { call?: Partial<CallOptions>; confirmed?: boolean } = {}) {
  const call = await makeCall(o.call ?? {});
  const leadInst = await makeInstitution({ provinceCode: 'SH' });
  const partnerInst = await makeInstitution({ provinceCode: 'JS' });
  const pi = await makeUser({ institutionId: leadInst.id });
  const contact = await makeUser({ institutionId: partnerInst.id });
  const topicId = (await CallTopic.findOne({ where: { callId: call.id } }))!.id;
  const proposal = await Proposal.create({
    callId: call.id,
    topicId,
    piUserId: pi.id,
    leadInstitutionId: leadInst.id,
    title: '长三角先进封装可靠性联合攻关',
    titleEn: null,
    abstract: ABSTRACT,
    keywords: '先进封装; 可靠性; 异构集成',
    disciplineCode: 'F0401',
    durationMonths: 24,
  });
  const lead = await ProposalPartner.create({ proposalId: proposal.id, institutionId: leadInst.id, provinceCode: 'SH', isLead: true, role: '牵头', contactUserId: pi.id, sortOrder: 0 });
  const partner = await ProposalPartner.create({
    proposalId: proposal.id,
    institutionId: partnerInst.id,
    provinceCode: 'JS',
    isLead: false,
    role: '测试验证',
    contactUserId: contact.id,
    sortOrder: 1,
    confirmedAt: o.confirmed === false ? null : new Date(),
    confirmedBy: o.confirmed === false ? null : contact.id,
  });
  await BudgetLine.create({ proposalId: proposal.id, partnerId: lead.id, year: 1, category: 'equipment', amountFen: 50_000_000 });
  await BudgetLine.create({ proposalId: proposal.id, partnerId: partner.id, year: 2, category: 'materials', amountFen: 12_345_67 });
  for (const kind of ['application', 'agreement']) {
    await Attachment.create({ proposalId: proposal.id, kind, originalName: `${kind}.pdf`, storedName: randomBytes(24).toString('hex'), sizeBytes: 1000, mime: 'application/pdf', sha256: 'a'.repeat(64), uploadedBy: pi.id });
  }
  return { call, proposal, pi, contact, lead, partner, leadInst, partnerInst };
}

/** The CSRF token of a page the agent can open. */
export async function tokenFrom(agent: Agent, path: string): Promise<string> {
  const res = await agent.get(path);
  const m = /name="_csrf" value="([^"]+)"/.exec(res.text) ?? /data-csrf="([^"]+)"/.exec(res.text);
  if (!m) throw new Error(`no CSRF token on ${path} (status ${res.status}): ${res.text.slice(0, 200)}`);
  return m[1]!;
}

/** The flash messages set by a response (kept in a cookie until the next page). */
export function flashesOf(res: { headers: Record<string, unknown> }): Array<{ kind: string; key: string; params?: Record<string, string> }> {
  const cookies = ([] as string[]).concat((res.headers['set-cookie'] as string[] | string | undefined) ?? []);
  const raw = cookies.map((c) => /^yrd\.flash=([^;]+)/.exec(c)?.[1]).find((v) => v && v.length > 0);
  return raw ? JSON.parse(Buffer.from(decodeURIComponent(raw), 'base64url').toString('utf8')) : [];
}

/** A minimal valid PDF (file-type recognises it from the %PDF- signature). */
export function pdfBytes(extra = ''): Buffer {
  return Buffer.from(`%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n${extra}\ntrailer << /Root 1 0 R >>\n%%EOF\n`);
}
