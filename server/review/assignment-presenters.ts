/**
 * View model of the officers' assignment page: per proposal its receipt, title, consortium provinces, assigned
 * experts (name, institution, province, affinity %, status, pinned), shortfall messages of the latest run; per
 * expert their load; the officers' pins and forbids. Plain objects only.
 */
import { Op, QueryTypes, type Sequelize } from 'sequelize';
import { pagerFor } from '../people/institution-service.js';
import { byChineseName } from '../platform/i18n.js';
import { Proposal, ProposalPartner } from '../proposals/models.js';
import { AssignmentConstraint, ReviewAssignment } from './review-models.js';
import { latestRun } from './assignment-run.js';
import { ASSIGNABLE_CALL_STATUSES, type CallFacts } from './assignment-service.js';

/** Shortfall params as display strings: lists joined, per-province counts as "SH 3, JS 2". */
export function shortfallParams(params: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) out[k] = v.join(', ');
    else if (v && typeof v === 'object') out[k] = Object.entries(v as Record<string, unknown>).map(([p, n]) => `${p || '—'} ${String(n)}`).join(', ');
    else out[k] = String(v);
  }
  return out;
}

/** Proposals per page (short ones first, then by id). */
export const ASSIGNMENT_PAGE_SIZE = 100;

export async function assignmentPage(sequelize: Sequelize, call: CallFacts, lang: string, page = 1) {
  const proposals = await Proposal.findAll({ where: { callId: call.id, status: 'eligible' }, attributes: ['id', 'receiptNo', 'title'], order: [['id', 'ASC']], raw: true });
  const ids = proposals.map((p) => p.id);
  const [partners, rows, constraints, run] = await Promise.all([
    ids.length ? ProposalPartner.findAll({ where: { proposalId: { [Op.in]: ids } }, attributes: ['proposalId', 'provinceCode'], raw: true }) : [],
    ReviewAssignment.findAll({ where: { callId: call.id, status: { [Op.ne]: 'withdrawn' } }, attributes: ['id', 'proposalId', 'expertUserId', 'status', 'affinityMilli'], order: [['affinityMilli', 'DESC']], raw: true }),
    AssignmentConstraint.findAll({ where: { callId: call.id }, attributes: ['id', 'proposalId', 'expertUserId', 'kind', 'reason'], order: [['id', 'ASC']], raw: true }),
    latestRun(call.id),
  ]);
  const userIds = [...new Set([...rows.map((r) => r.expertUserId), ...constraints.map((c) => c.expertUserId)])];
  const users = userIds.length
    ? await sequelize.query<{ id: number; name: string; inst: string | null; instEn: string | null; province: string | null; maxLoad: number | null }>(
        `SELECT u.id, u.name, i.name_zh AS inst, i.name_en AS instEn, i.province_code AS province, ep.max_load AS maxLoad
           FROM users u LEFT JOIN institutions i ON i.id = u.institution_id LEFT JOIN expert_profiles ep ON ep.user_id = u.id
          WHERE u.id IN (?)`,
        { replacements: [userIds], type: QueryTypes.SELECT },
      )
    : [];
  const user = new Map(users.map((u) => [Number(u.id), u]));
  const pinned = new Set(constraints.filter((c) => c.kind === 'pin').map((c) => `${c.proposalId}:${c.expertUserId}`));
  const provinces = new Map<number, Set<string>>();
  for (const x of partners) provinces.set(x.proposalId, (provinces.get(x.proposalId) ?? new Set()).add(x.provinceCode));
  const shortfalls = new Map((run?.shortfalls ?? []).map((s) => [Number(s.proposalId), s]));
  const receipt = new Map(proposals.map((p) => [p.id, p.receiptNo ?? `#${p.id}`]));
  const load = new Map<number, number>();
  const byProposal = new Map<number, typeof rows>();
  for (const r of rows) {
    if (r.status !== 'declined') load.set(r.expertUserId, (load.get(r.expertUserId) ?? 0) + 1);
    const l = byProposal.get(r.proposalId);
    if (l) l.push(r);
    else byProposal.set(r.proposalId, [r]);
  }
  const liveOn = (id: number) => (byProposal.get(id) ?? []).filter((r) => r.status !== 'declined').length;
  const ordered = [...proposals].sort((a, b) => Number(liveOn(b.id) < call.k) - Number(liveOn(a.id) < call.k) || a.id - b.id);
  const pages = Math.max(1, Math.ceil(ordered.length / ASSIGNMENT_PAGE_SIZE));
  const current = Math.min(Math.max(1, page), pages);
  const shown = ordered.slice((current - 1) * ASSIGNMENT_PAGE_SIZE, current * ASSIGNMENT_PAGE_SIZE);
  const nameOf = (id: number) => user.get(id)?.name ?? `#${id}`;
  const instOf = (id: number) => {
    const u = user.get(id);
    return (lang === 'en' && u?.instEn) || u?.inst || '';
  };
  return {
    call: { id: call.id, title: lang === 'en' && call.titleEn ? call.titleEn : call.titleZh, status: call.status, k: call.k },
    canRun: (ASSIGNABLE_CALL_STATUSES as readonly string[]).includes(call.status),
    lastRunAt: run?.at ?? null,
    proposedCount: rows.filter((r) => r.status === 'proposed').length,
    pager: pagerFor(`/calls/${call.id}/assignment`, {}, current, ordered.length, ASSIGNMENT_PAGE_SIZE),
    reasonsTruncated: run ? run.shortfalls.length < run.shortfallCount : false,
    reasonsShown: run?.shortfalls.length ?? 0,
    reasonsTotal: run?.shortfallCount ?? 0,
    shortCount: proposals.filter((p) => liveOn(p.id) < call.k).length,
    allProposals: proposals.map((p) => ({ id: p.id, receiptNo: receipt.get(p.id)!, title: p.title })),
    proposals: shown.map((p) => {
      const mine = byProposal.get(p.id) ?? [];
      const live = liveOn(p.id);
      const s = shortfalls.get(p.id);
      return {
        id: p.id,
        receiptNo: receipt.get(p.id)!,
        title: p.title,
        provinces: [...(provinces.get(p.id) ?? [])].sort().join(', '),
        short: live < call.k,
        live,
        experts: mine.map((r) => ({
          assignmentId: r.id,
          userId: r.expertUserId,
          name: nameOf(r.expertUserId),
          institution: instOf(r.expertUserId),
          province: user.get(r.expertUserId)?.province ?? '',
          affinityPct: (r.affinityMilli / 10).toFixed(1),
          status: r.status,
          pinned: pinned.has(`${p.id}:${r.expertUserId}`),
        })),
        shortfalls: (s?.reasons ?? []).map((x) => ({ key: `assignment:shortfall.${x.code}`, params: shortfallParams(x.params) })),
      };
    }),
    constraints: constraints.map((c) => ({ id: c.id, kind: c.kind, receiptNo: receipt.get(c.proposalId) ?? `#${c.proposalId}`, expertName: nameOf(c.expertUserId), expertUserId: c.expertUserId, reason: c.reason ?? '' })),
    loads: [...load.entries()]
      .map(([id, n]) => ({ name: nameOf(id), institution: instOf(id), assigned: n, maxLoad: user.get(id)?.maxLoad ?? 0 }))
      .sort((a, b) => b.assigned - a.assigned || byChineseName(a.name, b.name))
      .slice(0, 200),
    pinIssues: (run?.pinIssues ?? []).map((i) => ({ receiptNo: receipt.get(Number(i.proposalId)) ?? `#${i.proposalId}`, expertName: nameOf(Number(i.expertId)), key: `assignment:pinIssue.${i.code}`, honoured: i.honoured })),
  };
}
