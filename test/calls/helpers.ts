/** Test helpers of the calls area: a call factory and form posting with repeated fields. */
import { Call, CallCriterion, CallPledge, CallTopic, Programme } from '../../server/calls/models.js';
import { DEFAULT_ATTACHMENT_KINDS, DEFAULT_BUDGET_CATEGORIES, DEFAULT_RULES, type CallStatus } from '../../server/calls/rules.js';
import { csrfFrom, type Agent } from '../support/agent.js';
import { makeUser } from '../support/factories.js';

export const DAY = 86400_000;

let n = 0;

/** A call that could be published as it stands (one topic, weights = 100, SH pledge), unless told otherwise. */
export async function makeCall(
  o: Partial<{ status: CallStatus; titleZh: string; titleEn: string | null; deadlineAt: Date | null; opensAt: Date | null; topics: number; weights: number[]; pledges: Record<string, number>; endorsementRequired: boolean }> = {},
) {
  n++;
  const programme = (await Programme.findOne({ where: { nameZh: '长三角科技创新共同体联合攻关计划' } })) ?? (await Programme.create({ nameZh: '长三角科技创新共同体联合攻关计划', nameEn: 'YRD Joint Research Programme' }));
  const call = await Call.create({
    programmeId: programme.id,
    titleZh: o.titleZh ?? `集成电路关键技术联合攻关指南 ${n}`,
    titleEn: o.titleEn === undefined ? `Integrated circuits call ${n}` : o.titleEn,
    bodyZh: '第一段。\n第二行。\n\n第二段。',
    bodyEn: 'First paragraph.',
    status: o.status ?? 'draft',
    opensAt: o.opensAt ?? null,
    deadlineAt: o.deadlineAt === undefined ? new Date(Date.now() + 30 * DAY) : o.deadlineAt,
    endorsementRequired: o.endorsementRequired ?? false,
    endorsementDeadlineAt: null,
    reviewDueAt: null,
    decisionAt: null,
    rulesJson: JSON.stringify(DEFAULT_RULES),
    budgetCategoriesJson: JSON.stringify(DEFAULT_BUDGET_CATEGORIES),
    attachmentKindsJson: JSON.stringify(DEFAULT_ATTACHMENT_KINDS),
    createdBy: null,
    publishedAt: o.status && o.status !== 'draft' ? new Date() : null,
  });
  for (let i = 0; i < (o.topics ?? 1); i++) await CallTopic.create({ callId: call.id, code: `T${i + 1}`, titleZh: `方向${i + 1}`, titleEn: null, description: '说明', sortOrder: i });
  for (const [i, w] of (o.weights ?? [60, 40]).entries()) await CallCriterion.create({ callId: call.id, nameZh: `指标${i + 1}`, nameEn: null, weight: w, sortOrder: i });
  for (const [provinceCode, amountFen] of Object.entries(o.pledges ?? { SH: 100_000_000 })) await CallPledge.create({ callId: call.id, provinceCode, amountFen, enteredBy: null });
  return call;
}

export const officer = (province: string, o: Parameters<typeof makeUser>[0] = {}) => makeUser({ ...o, roles: [{ role: 'officer', provinceCode: province }] });

/** POST a urlencoded body built by hand, so that repeated names (checkbox lists) arrive as Express sees them from a browser. */
export async function postRaw(agent: Agent, path: string, fields: Array<[string, string]>, token?: string) {
  const csrf = token ?? (await csrfFrom(agent, '/calls'));
  const body = new URLSearchParams([['_csrf', csrf], ...fields]).toString();
  return agent.post(path).type('form').send(body);
}

/** Main settings of a valid call, as a browser would send them. */
export function settingsFields(o: Record<string, string> = {}, lead: string[] = []): Array<[string, string]> {
  const base: Record<string, string> = {
    programmeId: '',
    programmeName: '长三角科技创新共同体联合攻关计划',
    programmeNameEn: 'YRD Joint Research Programme',
    titleZh: '人工智能联合攻关指南',
    titleEn: 'AI joint call',
    bodyZh: '正文第一段。\n\n正文第二段。',
    bodyEn: '',
    opensAt: '',
    deadlineAt: '2099-12-01T17:00',
    endorsementDeadlineAt: '',
    reviewDueAt: '',
    decisionAt: '',
    fundingMode: 'virtual',
    balancingPotYuan: '',
    reviewersPerProposal: '3',
    minProvinces: '2',
    minPartners: '2',
    maxPartners: '10',
    maxTotalRequestYuan: '',
    maxPerPartnerYuan: '',
    minDurationMonths: '12',
    maxDurationMonths: '36',
    minEnterpriseSelfFundingPct: '100',
    maxActivePerPi: '1',
    ...o,
  };
  return [...Object.entries(base), ...lead.map((l): [string, string] => ['leadInstitutionTypes', l])];
}
