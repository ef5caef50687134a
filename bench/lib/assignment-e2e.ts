/**
 * assignment_2000x3_end_to_end_s: from the officer's click to the stored assignment, on the database. The bench
 * instance of bench/assignment.ts (2,000 proposals × k = 3 over 5,000 experts in 4 provinces, consortia of 2–4
 * provinces, ~1 % conflicts — stored as experts' declared conflicts, loads 2–4) is written with bulkCreate into
 * the database the running app uses: a call in review, its eligible proposals with partners, the experts with
 * profiles, disciplines and institutions, and an officer. The seeding is timed and noted separately. Then an
 * officer signed in over HTTP POSTs /calls/:id/assignment/run and the time until the response is the figure;
 * the stored 'proposed' rows are counted afterwards.
 */
import { randomBytes } from 'node:crypto';
import { QueryTypes } from 'sequelize';
import { Call, CallPledge, Programme } from '../../server/calls/models.js';
import { DEFAULT_ATTACHMENT_KINDS, DEFAULT_BUDGET_CATEGORIES, DEFAULT_RULES } from '../../server/calls/rules.js';
import { initModels, releaseModels } from '../../server/models.js';
import { Institution, User, UserRole } from '../../server/people/models.js';
import { roleScopeKey, syntheticCreditCode } from '../../server/people/rules.js';
import { createSequelize } from '../../server/platform/db.js';
import { hashPassword } from '../../server/platform/passwords.js';
import { Proposal, ProposalPartner } from '../../server/proposals/models.js';
import { DeclaredConflict, ExpertDiscipline, ExpertProfile } from '../../server/review/models.js';
import { benchInstance } from '../assignment.js';
import { signIn } from './client.js';
import type { BenchContext, Measured, Measurement } from './measurements.js';

const PASSWORD = 'bench-assign-2026';
const INSTITUTIONS_PER_PROVINCE = 200;
const r3 = (v: number) => Math.round(v * 1000) / 1000;

/** Sizes: the full 2,000 × 5,000 unless ASSIGN_E2E_PROPOSALS / ASSIGN_E2E_EXPERTS say otherwise. */
function sizes(): { proposals: number; experts: number } {
  const n = (v: string | undefined, d: number) => (v && /^\d+$/.test(v) ? Number(v) : d);
  return { proposals: n(process.env.ASSIGN_E2E_PROPOSALS, 2000), experts: n(process.env.ASSIGN_E2E_EXPERTS, 5000) };
}

async function bulk<T>(rows: T[], fn: (chunk: T[]) => Promise<unknown>, size = 500): Promise<void> {
  for (let i = 0; i < rows.length; i += size) await fn(rows.slice(i, i + size));
}

export async function seedAssignmentCall(databaseUrl: string, o: { proposals: number; experts: number }) {
  const sequelize = createSequelize({ databaseUrl, poolMax: 2 });
  initModels(sequelize);
  const tag = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const seed = Math.floor(Math.random() * 1e6) * 10_000;
  try {
    const inst = benchInstance({ proposals: o.proposals, experts: o.experts });
    const started = performance.now();
    const passwordHash = await hashPassword(PASSWORD);
    const provinces = ['SH', 'JS', 'ZJ', 'AH'];
    const institutions: Record<string, number[]> = {};
    let n = 0;
    for (const p of provinces) {
      const made = await Institution.bulkCreate(
        Array.from({ length: INSTITUTIONS_PER_PROVINCE }, () => ({ nameZh: `分配压测单位${tag}-${++n}`, nameEn: null, provinceCode: p, type: 'university' as const, creditCode: syntheticCreditCode(seed + n) })),
      );
      institutions[p] = made.map((m) => m.id);
    }
    const pickInst = (p: string, i: number) => institutions[p]![i % INSTITUTIONS_PER_PROVINCE]!;
    const programme = await Programme.create({ nameZh: `分配压测计划${tag}`, nameEn: null });
    const now = Date.now();
    const call = await Call.create({
      programmeId: programme.id,
      titleZh: `分配压测指南${tag}`,
      titleEn: null,
      bodyZh: '压测',
      bodyEn: null,
      status: 'in_review',
      opensAt: new Date(now - 40 * 86_400_000),
      deadlineAt: new Date(now - 10 * 86_400_000),
      endorsementRequired: false,
      endorsementDeadlineAt: null,
      reviewDueAt: null,
      decisionAt: null,
      fundingMode: 'virtual',
      balancingPotFen: 0,
      reviewersPerProposal: 3,
      rulesJson: JSON.stringify(DEFAULT_RULES),
      budgetCategoriesJson: JSON.stringify(DEFAULT_BUDGET_CATEGORIES),
      attachmentKindsJson: JSON.stringify(DEFAULT_ATTACHMENT_KINDS),
      createdBy: null,
      publishedAt: new Date(now - 40 * 86_400_000),
    });
    await CallPledge.bulkCreate(provinces.map((provinceCode) => ({ callId: call.id, provinceCode, amountFen: 100_000_000, enteredBy: null })));
    const officer = await User.create({ email: `assign-officer-${tag}@bench.yrd`, name: '分配压测主管', passwordHash, institutionId: null, lang: 'zh-CN', emailVerifiedAt: new Date(), disabledAt: null });
    await UserRole.create({ userId: officer.id, role: 'officer', provinceCode: 'SH', institutionId: null, scopeKey: roleScopeKey({ role: 'officer', provinceCode: 'SH' }), grantedBy: null });
    const pi = await User.create({ email: `assign-pi-${tag}@bench.yrd`, name: '分配压测负责人', passwordHash, institutionId: pickInst('SH', 0), lang: 'zh-CN', emailVerifiedAt: new Date(), disabledAt: null });

    // Experts: users, roles, profiles, disciplines.
    const expertUsers = await (async () => {
      const ids: number[] = [];
      const rows = inst.input.experts.map((e, i) => ({ email: `assign-x${i}-${tag}@bench.yrd`, name: `分配专家${i}`, passwordHash, institutionId: pickInst(e.province, i * 7 + 3), lang: 'zh-CN', emailVerifiedAt: new Date(), disabledAt: null }));
      await bulk(rows, async (c) => ids.push(...(await User.bulkCreate(c)).map((u) => u.id)));
      return ids;
    })();
    await bulk(expertUsers, (c) => UserRole.bulkCreate(c.map((userId) => ({ userId, role: 'expert' as const, provinceCode: null, institutionId: null, scopeKey: roleScopeKey({ role: 'expert' }), grantedBy: null }))));
    const text = (v: string | readonly string[] | null | undefined) => (Array.isArray(v) ? v.join('; ') : ((v as string | null | undefined) ?? null));
    await bulk(
      inst.experts.map((e, i) => ({ userId: expertUsers[i]!, title: '研究员', keywords: text(e.keywords)?.slice(0, 500) ?? null, bio: e.profile ?? null, available: true, maxLoad: inst.input.experts[i]!.load })),
      (c) => ExpertProfile.bulkCreate(c),
    );
    await bulk(
      inst.experts.flatMap((e, i) => [...new Set(e.disciplines ?? [])].map((code, j) => ({ userId: expertUsers[i]!, code, sortOrder: j }))),
      (c) => ExpertDiscipline.bulkCreate(c),
    );

    // Proposals and their partners (lead in the first consortium province).
    const proposalIds: number[] = [];
    await bulk(
      inst.input.proposals.map((p, i) => ({
        callId: call.id,
        topicId: null,
        piUserId: pi.id,
        leadInstitutionId: pickInst(p.provinces[0]!, i * 13 + 1),
        title: inst.proposals[i]!.title.slice(0, 200),
        titleEn: null,
        abstract: inst.proposals[i]!.abstract ?? null,
        keywords: text(inst.proposals[i]!.keywords),
        disciplineCode: inst.proposals[i]!.discipline ?? null,
        durationMonths: 24,
        status: 'eligible' as const,
        receiptNo: `YRD-B${tag}-${i + 1}`,
        submittedAt: new Date(now - 20 * 86_400_000),
      })),
      async (c) => proposalIds.push(...(await Proposal.bulkCreate(c)).map((p) => p.id)),
    );
    await bulk(
      inst.input.proposals.flatMap((p, i) =>
        p.provinces.map((provinceCode, j) => ({ proposalId: proposalIds[i]!, institutionId: pickInst(provinceCode, i * 13 + 1 + j * 37), provinceCode, isLead: j === 0, role: j === 0 ? '牵头' : '参与', contactUserId: null, sortOrder: j })),
      ),
      (c) => ProposalPartner.bulkCreate(c),
    );
    // The instance's conflicts, as experts' declarations.
    const eIdx = new Map(inst.input.experts.map((e, i) => [e.id, i]));
    const pIdx = new Map(inst.input.proposals.map((p, i) => [p.id, i]));
    const conflicts = [...(inst.input.conflicts ?? [])].map((c) => ({ proposalId: proposalIds[pIdx.get(c.proposalId)!]!, expertUserId: expertUsers[eIdx.get(c.expertId)!]!, reason: '压测回避' }));
    await bulk(conflicts, (c) => DeclaredConflict.bulkCreate(c), 2000);
    const seedSeconds = (performance.now() - started) / 1000;
    return {
      callId: call.id,
      officerEmail: officer.email,
      seedSeconds,
      conflicts: conflicts.length,
      async storedProposed(): Promise<number> {
        const [row] = await sequelize.query<{ n: number }>("SELECT COUNT(*) AS n FROM review_assignments WHERE call_id = ? AND status = 'proposed'", { replacements: [call.id], type: QueryTypes.SELECT });
        return Number(row?.n ?? 0);
      },
      async proposalsWithK(): Promise<number> {
        const [row] = await sequelize.query<{ n: number }>(
          "SELECT COUNT(*) AS n FROM (SELECT proposal_id FROM review_assignments WHERE call_id = ? AND status IN ('proposed', 'invited', 'accepted') GROUP BY proposal_id HAVING COUNT(*) >= 3) x",
          { replacements: [call.id], type: QueryTypes.SELECT },
        );
        return Number(row?.n ?? 0);
      },
      async close() {
        releaseModels(sequelize);
        await sequelize.close();
      },
    };
  } catch (e) {
    releaseModels(sequelize);
    await sequelize.close();
    throw e;
  }
}

export async function measureAssignmentE2e(ctx: BenchContext): Promise<Measured> {
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(ctx.base)) throw new Error(`refusing anything but 127.0.0.1: ${ctx.base}`);
  const size = sizes();
  ctx.log(`assignment e2e: seeding ${size.proposals} proposals × ${size.experts} experts into the bench database`);
  const f = await seedAssignmentCall(ctx.databaseUrl, size);
  try {
    ctx.log(`assignment e2e: seeded in ${r3(f.seedSeconds)} s; officer signs in and runs the assignment`);
    const cookie = await signIn(ctx.base, f.officerEmail, PASSWORD);
    const account = await fetch(`${ctx.base}/account`, { headers: { Cookie: cookie } });
    const token = /name="_csrf" value="([^"]+)"/.exec(await account.text())?.[1];
    if (!token) throw new Error(`no CSRF token on /account (status ${account.status})`);
    const started = performance.now();
    const res = await fetch(`${ctx.base}/calls/${f.callId}/assignment/run`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie },
      body: new URLSearchParams({ _csrf: token }).toString(),
      signal: AbortSignal.timeout(600_000),
    });
    await res.arrayBuffer();
    const seconds = (performance.now() - started) / 1000;
    if (res.status !== 303) throw new Error(`POST /calls/${f.callId}/assignment/run answered ${res.status}`);
    const stored = await f.storedProposed();
    if (stored < size.proposals) throw new Error(`only ${stored} proposed rows stored for ${size.proposals} proposals`);
    const withK = await f.proposalsWithK();
    // The officer's page after the run (first page of 100 proposals), for reference.
    const t1 = performance.now();
    const page = await fetch(`${ctx.base}/calls/${f.callId}/assignment`, { headers: { Cookie: cookie } });
    const pageBytes = (await page.arrayBuffer()).byteLength;
    const pageSeconds = (performance.now() - t1) / 1000;
    if (page.status !== 200) throw new Error(`GET /calls/${f.callId}/assignment answered ${page.status}`);
    const full = size.proposals === 2000 && size.experts === 5000;
    return {
      value: r3(seconds),
      proposals: size.proposals,
      experts: size.experts,
      k: 3,
      conflicts_declared: f.conflicts,
      stored_proposed: stored,
      proposals_with_k: withK,
      page_get_s: r3(pageSeconds),
      page_bytes: pageBytes,
      seed_s: r3(f.seedSeconds),
      note: `POST /calls/:id/assignment/run as an officer over HTTP until the response (load, conflicts, affinity, solve, store, audit); seeding by bulkCreate took ${r3(f.seedSeconds)} s, not counted${full ? '' : `; REDUCED SIZE ${size.proposals}×${size.experts}, not the full 2000×5000`}`,
    };
  } finally {
    await f.close();
  }
}

export const assignmentE2eMeasurement: Measurement = { name: 'assignment_2000x3_end_to_end_s', unit: 's', target: { max: 5 }, run: measureAssignmentE2e };
