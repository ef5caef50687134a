/**
 * The demo call and its ~300 joint proposals, seeded once inside the demo seed's transaction: a published call
 * of the 长三角科技创新共同体联合攻关计划 (deadline in 30 days, host-institution endorsement required), and
 * proposals built from NSFC project titles and their YRD host institutions, each with 2–4 institutions from at
 * least two provinces, budget lines, receipts and submission snapshots, statuses spread over the pipeline, and
 * some deliberately failing an eligibility rule so that screening shows failures. Deterministic (seeded PRNG)
 * and fast (bulk inserts with ids assigned here, so nothing is read back row by row).
 */
import { Op, type Transaction } from 'sequelize';
import { readAttachmentKinds } from '../calls/schema.js';
import { Call, CallCriterion, CallPledge, CallTopic, Programme } from '../calls/models.js';
import { DEFAULT_ATTACHMENT_KINDS, DEFAULT_BUDGET_CATEGORIES, DEFAULT_RULES, type CallStatus, type EligibilityRules } from '../calls/rules.js';
import { Institution, User, UserRole } from '../people/models.js';
import { audit, SYSTEM } from '../platform/audit.js';
import type { UploadArea } from '../platform/storage.js';
import { SHANGHAI_OFFSET_MS } from '../platform/time.js';
import { Attachment, Proposal, ProposalPartner } from '../proposals/models.js';
import { checkEligibility, type ProposalStatus } from '../proposals/rules.js';
import { DEMO_CALL, DEMO_CRITERIA, DEMO_PLEDGES_WAN, DEMO_PROGRAMME, DEMO_TOPICS, GIVEN, prng, readNsfcProjects, SURNAMES } from './demo-data.js';
import { buildProposalRows, consortiumPicker, DAY, insertProposalRows, partnerBudgets, seconds, WAN, type Draft, type Flaw, type Inst } from './demo-proposal-rows.js';

export const DEMO_PROPOSAL_COUNT = 300;

export const DEMO_RULES: EligibilityRules = {
  ...DEFAULT_RULES,
  minProvinces: 2,
  minPartners: 2,
  maxPartners: 6,
  maxTotalRequestFen: 600 * WAN,
  maxPerPartnerFen: 300 * WAN,
  minDurationMonths: 24,
  maxDurationMonths: 36,
  minEnterpriseSelfFundingPct: 100,
  maxActivePerPi: 2,
};


/** Seed the demo call and proposals; returns how many proposals were made (0 when already there). */
export async function seedDemoProposals(t: Transaction, o: { passwordHash: string; now?: Date; uploads: UploadArea }): Promise<number> {
  if ((await Programme.count({ where: { nameZh: DEMO_PROGRAMME.nameZh }, transaction: t })) > 0) return 0;
  const rand = prng(20_261_124);
  const pickOf = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const nowMs = seconds((o.now ?? new Date()).getTime()).getTime();

  const institutions = (await Institution.findAll({ attributes: ['id', 'nameZh', 'nameEn', 'provinceCode', 'type'], order: [['id', 'ASC']], raw: true, transaction: t })) as Inst[];
  const byName = new Map(institutions.map((i) => [i.nameZh, i]));
  const provinces = [...new Set(institutions.map((i) => i.provinceCode))].sort();
  const inProvince = new Map(provinces.map((p) => [p, institutions.filter((i) => i.provinceCode === p)]));
  const demoUsers = new Map((await User.findAll({ where: { email: { [Op.like]: '%@demo.yrd' } }, attributes: ['id', 'email'], raw: true, transaction: t })).map((u) => [u.email, u.id]));
  const fudan = byName.get('复旦大学');
  const nju = byName.get('南京大学');
  if (!fudan || !nju || provinces.length < 2) return 0;

  // ---- programme and call ---------------------------------------------------------------------------
  const programme = await Programme.create(DEMO_PROGRAMME, { transaction: t });
  const officerOf = (p: string) => demoUsers.get(`officer.${p.toLowerCase()}@demo.yrd`) ?? null;
  const { call, topicIds } = await createDemoCall(t, {
    programmeId: programme.id,
    texts: DEMO_CALL,
    status: 'published',
    opensMs: nowMs - 7 * DAY,
    deadlineMs: nowMs + 30 * DAY,
    reviewDueMs: nowMs + 60 * DAY,
    decisionMs: nowMs + 90 * DAY,
    k: 5,
    criteria: DEMO_CRITERIA.map((c) => ({ ...c, scaleMax: 10 })),
    pledgesWan: DEMO_PLEDGES_WAN,
    provinces,
    officerOf,
  });

  // ---- proposals in memory -----------------------------------------------------------------------------
  const projects = readNsfcProjects().filter((p) => byName.has(p.institution));
  const order = projects.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const seen = new Set<string>();
  const chosen = order.map((i) => projects[i]!).filter((p) => !seen.has(p.title) && !!seen.add(p.title));
  const fudanFirst = [...chosen.filter((p) => p.institution === '复旦大学').slice(0, 7), ...chosen.filter((p) => p.institution !== '复旦大学')];

  let nextUser = Number((await User.max('id', { transaction: t })) ?? 0) + 1;
  let nextProposal = Number((await Proposal.max('id', { transaction: t })) ?? 0) + 1;
  let nextPartner = Number((await ProposalPartner.max('id', { transaction: t })) ?? 0) + 1;
  const newUsers: Array<{ id: number; email: string; name: string; institutionId: number }> = [];
  const drafts: Draft[] = [];
  const piDemo = demoUsers.get('pi@demo.yrd');
  const partnerDemo = demoUsers.get('partner@demo.yrd') ?? null;

  const consortium = consortiumPicker(provinces, inProvince, pickOf);
  const flawOf = (r: number): Flaw => (r < 0.06 ? 'maxTotalRequest' : r < 0.1 ? 'duration' : r < 0.13 ? 'maxPerPartner' : 'none');
  const sharedPi = { id: 0 };
  const surnames = [...SURNAMES];
  const given = [...GIVEN];

  for (let k = 0; k < DEMO_PROPOSAL_COUNT && k < fudanFirst.length; k++) {
    const project = fudanFirst[k]!;
    const lead = byName.get(project.institution)!;
    const demoPi = k < 2 && piDemo !== undefined && lead.id === fudan.id;
    const flaw: Flaw = demoPi ? 'none' : k >= 20 && k < 23 ? 'piLimit' : flawOf(rand());
    const n = demoPi ? 3 : flaw === 'maxTotalRequest' ? between(3, 4) : between(2, 4);
    const members = demoPi ? [lead, nju, k === 0 ? byName.get('浙江大学') ?? consortium(lead, 2)[1]! : byName.get('中国科学技术大学') ?? consortium(lead, 2)[1]!] : consortium(lead, n);
    let piUserId: number;
    if (demoPi) piUserId = piDemo!;
    else if (flaw === 'piLimit' && sharedPi.id) piUserId = sharedPi.id;
    else {
      piUserId = nextUser++;
      const name = pickOf(surnames) + pickOf(given) + (rand() < 0.6 ? pickOf(given) : '');
      newUsers.push({ id: piUserId, email: `pi${String(newUsers.length + 1).padStart(4, '0')}@demo.yrd`, name, institutionId: lead.id });
      if (flaw === 'piLimit') sharedPi.id = piUserId;
    }
    const partners = partnerBudgets(members, flaw, rand, between, (inst, i) => (i === 0 ? piUserId : demoPi && inst.id === nju.id ? partnerDemo : null));
    const durationMonths = flaw === 'duration' ? 48 : pickOf([24, 36, 36]);
    let status: ProposalStatus;
    if (demoPi) status = k === 0 ? 'submitted' : 'draft';
    else if (lead.id === fudan.id && k < 7) status = 'submitted';
    else if (flaw === 'piLimit') status = 'endorsed';
    else {
      const facts = { durationMonths, otherActiveOfPi: 0, partners: partners.map((p, i) => ({ institutionId: p.inst.id, provinceCode: p.inst.provinceCode, type: p.inst.type, isLead: i === 0, requestedFen: p.requestedFen, selfFundedFen: p.selfFundedFen, confirmed: true })) };
      const fails = checkEligibility(DEMO_RULES, facts).some((r) => !r.ok);
      const r = rand();
      status = r < 0.15 ? 'submitted' : fails ? (r < 0.55 ? 'endorsed' : 'ineligible') : r < 0.5 ? 'endorsed' : r < 0.92 ? 'eligible' : 'ineligible';
    }
    drafts.push({ id: nextProposal++, title: project.title, piUserId, topic: Math.floor(rand() * topicIds.length), lead, partners, durationMonths, status, flaw });
  }

  // ---- rows -------------------------------------------------------------------------------------------
  if (newUsers.length) {
    await User.bulkCreate(newUsers.map((u) => ({ ...u, passwordHash: o.passwordHash, lang: 'zh-CN', emailVerifiedAt: seconds(nowMs - 30 * DAY), disabledAt: null })), { transaction: t });
    await UserRole.bulkCreate(newUsers.map((u) => ({ userId: u.id, role: 'applicant' as const, provinceCode: null, institutionId: null, scopeKey: '', grantedBy: null })), { transaction: t });
  }
  const office = demoUsers.get('office@demo.yrd') ?? null;
  const rows = buildProposalRows(drafts, { callId: call.id, topicIds, nowMs, rand, between, nextPartner, nextAttachment: Number((await Attachment.max('id', { transaction: t })) ?? 0) + 1, attachmentKinds: readAttachmentKinds(call.attachmentKindsJson), officerOf, office, endorserInstitutionId: fudan.id });
  await insertProposalRows(t, rows, o.uploads);
  await audit(t, SYSTEM, { action: 'seed.demo_proposals', entityType: 'call', entityId: call.id, after: { proposals: rows.proposals.length, partners: rows.partnerRows.length, budgetLines: rows.lineRows.length, attachments: rows.attachments.length, applicants: newUsers.length } });
  return rows.proposals.length;
}

/** A phase date as an officer would set it: hour:00 Asia/Shanghai (UTC+8, no DST) on the day of `ms`. */
function shanghaiDayAt(ms: number, hour: number): Date {
  return new Date(Math.floor((ms + SHANGHAI_OFFSET_MS) / DAY) * DAY + hour * 3600_000 - SHANGHAI_OFFSET_MS);
}

/**
 * A demo call of the programme with the demo topics, the given criteria and pledges (endorsement required, a week
 * after the deadline; published when it opened); returns it with its topic ids in DEMO_TOPICS order.
 */
export async function createDemoCall(
  t: Transaction,
  o: {
    programmeId: number;
    texts: { titleZh: string; titleEn: string; bodyZh: string; bodyEn: string };
    status: CallStatus;
    opensMs: number;
    deadlineMs: number;
    reviewDueMs: number;
    decisionMs: number;
    k: number;
    criteria: Array<{ nameZh: string; nameEn: string; weight: number; scaleMax: number }>;
    pledgesWan: Record<string, number>;
    provinces: string[];
    officerOf: (province: string) => number | null;
  },
): Promise<{ call: Call; topicIds: number[] }> {
  const call = await Call.create(
    {
      programmeId: o.programmeId,
      ...o.texts,
      status: o.status,
      opensAt: shanghaiDayAt(o.opensMs, 9),
      deadlineAt: shanghaiDayAt(o.deadlineMs, 17),
      endorsementRequired: true,
      endorsementDeadlineAt: shanghaiDayAt(o.deadlineMs + 7 * DAY, 17),
      reviewDueAt: shanghaiDayAt(o.reviewDueMs, 17),
      decisionAt: shanghaiDayAt(o.decisionMs, 17),
      fundingMode: 'virtual',
      balancingPotFen: 0,
      reviewersPerProposal: o.k,
      rulesJson: JSON.stringify(DEMO_RULES),
      budgetCategoriesJson: JSON.stringify(DEFAULT_BUDGET_CATEGORIES),
      attachmentKindsJson: JSON.stringify(DEFAULT_ATTACHMENT_KINDS),
      createdBy: o.officerOf('SH'),
      publishedAt: shanghaiDayAt(o.opensMs, 9),
    },
    { transaction: t },
  );
  await CallTopic.bulkCreate(DEMO_TOPICS.map((x, i) => ({ callId: call.id, code: x.code, titleZh: x.titleZh, titleEn: x.titleEn, description: x.keywords.join('、'), sortOrder: i })), { transaction: t });
  const topicIds = (await CallTopic.findAll({ where: { callId: call.id }, attributes: ['id'], order: [['sortOrder', 'ASC']], raw: true, transaction: t })).map((x) => x.id);
  await CallCriterion.bulkCreate(o.criteria.map((c, i) => ({ callId: call.id, ...c, sortOrder: i })), { transaction: t });
  await CallPledge.bulkCreate(
    o.provinces.filter((p) => o.pledgesWan[p]).map((p) => ({ callId: call.id, provinceCode: p, amountFen: o.pledgesWan[p]! * 10_000 * 100, enteredBy: o.officerOf(p) })),
    { transaction: t },
  );
  return { call, topicIds };
}
