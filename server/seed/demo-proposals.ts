/**
 * The demo call and its ~300 joint proposals, seeded once inside the demo seed's transaction: a published call
 * of the 长三角科技创新共同体联合攻关计划 (deadline in 30 days, host-institution endorsement required), and
 * proposals built from NSFC project titles and their YRD host institutions, each with 2–4 institutions from at
 * least two provinces, budget lines, receipts and submission snapshots, statuses spread over the pipeline, and
 * some deliberately failing an eligibility rule so that screening shows failures. Deterministic (seeded PRNG)
 * and fast (bulk inserts with ids assigned here, so nothing is read back row by row).
 */
import { Op, type CreationAttributes, type Transaction } from 'sequelize';
import { Call, CallCriterion, CallPledge, CallTopic, Programme } from '../calls/models.js';
import { DEFAULT_ATTACHMENT_KINDS, DEFAULT_BUDGET_CATEGORIES, DEFAULT_RULES, type EligibilityRules } from '../calls/rules.js';
import { Institution, User, UserRole } from '../people/models.js';
import type { InstitutionType } from '../people/rules.js';
import { audit, SYSTEM } from '../platform/audit.js';
import { snapshotOf, type PartnerRow, type ProposalBundle } from '../proposals/bundle.js';
import { BudgetLine, Proposal, ProposalPartner, ProposalSubmission } from '../proposals/models.js';
import { refreshProposalFacts } from '../proposals/facts.js';
import { checkEligibility, receiptNumber, type ProposalStatus } from '../proposals/rules.js';
import { DEMO_CALL, DEMO_CRITERIA, DEMO_PLEDGES_WAN, DEMO_PROGRAMME, DEMO_TOPICS, GIVEN, INELIGIBLE_REASONS, prng, readNsfcProjects, SURNAMES } from './demo-data.js';

export const DEMO_PROPOSAL_COUNT = 300;
const WAN = 1_000_000; // 1 万元 in fen
const HOUR = 3600_000;
const DAY = 24 * HOUR;

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

type Inst = { id: number; nameZh: string; nameEn: string | null; provinceCode: string; type: InstitutionType };
type Flaw = 'none' | 'maxTotalRequest' | 'maxPerPartner' | 'duration' | 'enterpriseSelfFunding' | 'piLimit';

interface Draft {
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

const seconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);

/** Split `fen` into `n` integer parts (multiples of 100 元 but the last) that add up exactly. */
function split(fen: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const parts = weights.map((w) => Math.floor((fen * w) / sum / 10_000) * 10_000);
  parts[parts.length - 1]! += fen - parts.reduce((a, b) => a + b, 0);
  return parts;
}

/** Seed the demo call and proposals; returns how many proposals were made (0 when already there). */
export async function seedDemoProposals(t: Transaction, o: { passwordHash: string; now?: Date }): Promise<number> {
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
  const call = await Call.create(
    {
      programmeId: programme.id,
      ...DEMO_CALL,
      status: 'published',
      opensAt: seconds(nowMs - 7 * DAY),
      deadlineAt: seconds(nowMs + 30 * DAY),
      endorsementRequired: true,
      endorsementDeadlineAt: seconds(nowMs + 37 * DAY),
      reviewDueAt: seconds(nowMs + 60 * DAY),
      decisionAt: seconds(nowMs + 90 * DAY),
      fundingMode: 'virtual',
      balancingPotFen: 0,
      reviewersPerProposal: 5,
      rulesJson: JSON.stringify(DEMO_RULES),
      budgetCategoriesJson: JSON.stringify(DEFAULT_BUDGET_CATEGORIES),
      attachmentKindsJson: JSON.stringify(DEFAULT_ATTACHMENT_KINDS),
      createdBy: demoUsers.get('officer.sh@demo.yrd') ?? null,
      publishedAt: seconds(nowMs - 7 * DAY),
    },
    { transaction: t },
  );
  await CallTopic.bulkCreate(DEMO_TOPICS.map((x, i) => ({ callId: call.id, code: x.code, titleZh: x.titleZh, titleEn: x.titleEn, description: x.keywords.join('、'), sortOrder: i })), { transaction: t });
  const topicIds = (await CallTopic.findAll({ where: { callId: call.id }, attributes: ['id'], order: [['sortOrder', 'ASC']], raw: true, transaction: t })).map((x) => x.id);
  await CallCriterion.bulkCreate(DEMO_CRITERIA.map((c, i) => ({ callId: call.id, ...c, scaleMax: 10, sortOrder: i })), { transaction: t });
  await CallPledge.bulkCreate(
    provinces.filter((p) => DEMO_PLEDGES_WAN[p]).map((p) => ({ callId: call.id, provinceCode: p, amountFen: DEMO_PLEDGES_WAN[p]! * 10_000 * 100, enteredBy: demoUsers.get(`officer.${p.toLowerCase()}@demo.yrd`) ?? null })),
    { transaction: t },
  );

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

  const consortium = (lead: Inst, n: number): Inst[] => {
    const members = [lead];
    const others = provinces.filter((p) => p !== lead.provinceCode);
    while (members.length < n) {
      const province = members.length === 1 ? pickOf(others) : pickOf(provinces);
      const inst = pickOf(inProvince.get(province)!);
      if (!members.some((m) => m.id === inst.id)) members.push(inst);
    }
    return members;
  };
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
    const partners = members.map((inst, i) => {
      let requestedFen = (i === 0 ? between(80, 200) : between(30, 120)) * WAN + between(0, 9) * 100_000;
      if (flaw === 'maxTotalRequest') requestedFen = (i === 0 ? 280 : 180) * WAN;
      if (flaw === 'maxPerPartner' && i === 0) requestedFen = between(310, 340) * WAN;
      if (flaw === 'maxPerPartner' && i > 0) requestedFen = between(20, 60) * WAN;
      const enterprise = inst.type === 'enterprise';
      const selfFundedFen = enterprise ? (rand() < 0.35 ? Math.floor(requestedFen / 2) : requestedFen + between(0, 50) * WAN) : rand() < 0.5 ? 0 : Math.floor((requestedFen * between(10, 30)) / 100 / 100_000) * 100_000;
      const contactUserId = i === 0 ? piUserId : demoPi && inst.id === nju.id ? partnerDemo : null;
      return { inst, requestedFen, selfFundedFen, contactUserId };
    });
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
  const officerOf = (p: string) => demoUsers.get(`officer.${p.toLowerCase()}@demo.yrd`) ?? null;
  const office = demoUsers.get('office@demo.yrd') ?? null;
  const proposals: Array<CreationAttributes<Proposal>> = [];
  const partnerRows: Array<CreationAttributes<ProposalPartner>> = [];
  const lineRows: Array<{ proposalId: number; partnerId: number; year: number; category: string; amountFen: number }> = [];
  const submissions: Array<CreationAttributes<ProposalSubmission>> = [];
  const failedRule = (d: Draft) => (d.flaw === 'none' ? 'other' : d.flaw);
  const LEAD_CATEGORIES = ['equipment', 'materials', 'testing', 'labour', 'indirect'];
  const PARTNER_CATEGORIES = ['materials', 'travel', 'labour', 'indirect'];

  for (const d of drafts) {
    const submitted = d.status !== 'draft';
    const submittedAt = seconds(nowMs - between(6, 6 * 24) * HOUR - between(0, 3599) * 1000);
    const endorsedAt = d.status !== 'draft' && d.status !== 'submitted' ? seconds(Math.min(submittedAt.getTime() + between(2, 48) * HOUR, nowMs - 2 * HOUR)) : null;
    const screenedAt = endorsedAt && (d.status === 'eligible' || d.status === 'ineligible') ? seconds(Math.min(endorsedAt.getTime() + between(1, 24) * HOUR, nowMs - HOUR)) : null;
    const topic = DEMO_TOPICS[d.topic]!;
    const years = Math.ceil(d.durationMonths / 12);
    const rows: PartnerRow[] = d.partners.map((p, i) => ({
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
    const receiptNo = submitted ? receiptNumber(call.id, d.id, submittedAt, 1) : null;
    const proposal = {
      id: d.id,
      callId: call.id,
      topicId: topicIds[d.topic]!,
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
      endorsedBy: endorsedAt && d.lead.id === fudan.id ? office : null,
      endorsedAt,
      returnReason: null,
      screenedBy: screenedAt ? officerOf(d.lead.provinceCode) : null,
      screenedAt,
      screeningReason: screenedAt && d.status === 'ineligible' ? INELIGIBLE_REASONS[failedRule(d)]! : null,
      createdAt: seconds(submittedAt.getTime() - 3 * DAY),
      updatedAt: screenedAt ?? endorsedAt ?? submittedAt,
    };
    proposals.push(proposal);
    partnerRows.push(...rows.map((r, i) => ({ id: r.id, proposalId: d.id, institutionId: r.institutionId, provinceCode: r.provinceCode, isLead: r.isLead, role: r.role, contactUserId: r.contactUserId, selfFundedFen: r.selfFundedFen, confirmedAt: r.confirmedAt, confirmedBy: null, sortOrder: i })));
    lineRows.push(...lines);
    if (submitted) {
      const bundle: ProposalBundle = { proposal: proposal as unknown as Proposal, endorsementRequired: true, partners: rows, lines: lines.map((l, i) => ({ id: i + 1, ...l })), attachments: [], exclusions: [] };
      const snap = snapshotOf(bundle);
      submissions.push({ proposalId: d.id, idempotencyKey: `demo-${d.id}`, receiptNo: receiptNo!, snapshot: snap.json, snapshotSha256: snap.sha256, submittedBy: d.piUserId, createdAt: submittedAt });
    }
  }

  const chunked = async <T>(rows: T[], insert: (chunk: T[]) => Promise<unknown>, size = 500) => {
    for (let i = 0; i < rows.length; i += size) await insert(rows.slice(i, i + size));
  };
  await chunked(proposals, (c) => Proposal.bulkCreate(c, { transaction: t }));
  await chunked(partnerRows, (c) => ProposalPartner.bulkCreate(c, { transaction: t }));
  await chunked(lineRows, (c) => BudgetLine.bulkCreate(c, { transaction: t }), 1000);
  await chunked(proposals.map((p) => p.id!), (ids) => refreshProposalFacts(Proposal.sequelize!, ids, t));
  await chunked(submissions, (c) => ProposalSubmission.bulkCreate(c, { transaction: t }), 100);
  await audit(t, SYSTEM, { action: 'seed.demo_proposals', entityType: 'call', entityId: call.id, after: { proposals: proposals.length, partners: partnerRows.length, budgetLines: lineRows.length, applicants: newUsers.length } });
  return proposals.length;
}
