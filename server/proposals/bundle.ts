/**
 * A proposal with everything that belongs to it, loaded in one statement, and its immutable
 * submission snapshot. Used by the editor, the sign-off and screening pages, exports and submission.
 */
import { createHash } from 'node:crypto';
import type { InferAttributes, Transaction } from 'sequelize';
import type { InstitutionType } from '../people/rules.js';
import { attributesFromRow, jsonRows, sqlOf, toBool, toDate, type Sql } from '../platform/sql.js';
import { Proposal } from './models.js';
import type { ProposalAccessFacts } from './policy.js';
import { ACTIVE_STATUSES, type PartnerFacts } from './rules.js';

export interface PartnerRow {
  id: number;
  institutionId: number;
  institutionName: string;
  institutionNameEn: string | null;
  institutionType: InstitutionType;
  /** The institution's unified social credit code (sanctions are matched on it). */
  creditCode: string | null;
  provinceCode: string;
  isLead: boolean;
  role: string | null;
  contactUserId: number | null;
  selfFundedFen: number;
  confirmedAt: Date | null;
  requestedFen: number;
}

/** A proposal's stored values (read only: change a proposal through the service's commands). */
export type ProposalRecord = Readonly<InferAttributes<Proposal>>;

export interface ProposalBundle {
  proposal: ProposalRecord;
  endorsementRequired: boolean;
  /** The PI's other active proposals in the same call when the bundle was read (限项). */
  otherActiveOfPi: number;
  partners: PartnerRow[];
  lines: Array<{ id: number; partnerId: number; year: number; category: string; amountFen: number }>;
  attachments: Array<{ id: number; kind: string; originalName: string; sizeBytes: number; mime: string; sha256: string; createdAt: Date }>;
  exclusions: Array<{ id: number; expertName: string; expertInstitution: string | null; reason: string }>;
  /** Experts with an accepted review assignment: for the access decision only, never shown. */
  reviewerUserIds?: number[];
  /** Earlier submissions (receipts and snapshot hashes), newest first. */
  submissions: Array<{ receiptNo: string; snapshotSha256: string; createdAt: Date }>;
}

type PartnerJson = [id: number, institutionId: number, provinceCode: string, isLead: unknown, role: string | null, contactUserId: number | null, selfFundedFen: number | string, confirmedAt: unknown, nameZh: string | null, nameEn: string | null, type: string | null, creditCode: string | null, sortOrder: number];
type LineJson = [id: number, partnerId: number, year: number, category: string, amountFen: number | string];
type AttachmentJson = [id: number, kind: string, originalName: string, sizeBytes: number | string, mime: string, sha256: string, createdAt: unknown];
type ExclusionJson = [id: number, expertName: string, expertInstitution: string | null, reason: string];
type SubmissionJson = [id: number, receiptNo: string, snapshotSha256: string, createdAt: unknown];

/** ACTIVE_STATUSES as an SQL list, for `status IN (…)` (constant text, so the statements stay prepared once). */
export const ACTIVE_STATUSES_SQL = ACTIVE_STATUSES.map((s) => `'${s}'`).join(', ');

/**
 * The PI's other active proposals in the same call (限项) as a subquery on the row `p` (index call_id,
 * pi_user_id, status): the bundle and the screening list's eligibility filter count them (the list's rows read
 * the count kept in pi_call_activity). The statuses are the code's own constants, written as literals, so the
 * subquery carries no parameters.
 */
export const OTHER_ACTIVE_OF_P = `(SELECT COUNT(*) FROM proposals o WHERE o.call_id = p.call_id AND o.pi_user_id = p.pi_user_id AND o.id <> p.id AND o.status IN (${ACTIVE_STATUSES_SQL}))`;

/** What belongs to a proposal, list by list: the columns of each list's JSON rows and where they come from. */
const LISTS = [
  ['partners', 'pp.id, pp.institution_id, pp.province_code, pp.is_lead, pp.role, pp.contact_user_id, pp.self_funded_fen, pp.confirmed_at, i.name_zh, i.name_en, i.type, i.credit_code, pp.sort_order', 'proposal_partners pp LEFT JOIN institutions i ON i.id = pp.institution_id WHERE pp.proposal_id = ?'],
  ['lines', 'l.id, l.partner_id, l.year, l.category, l.amount_fen', 'budget_lines l WHERE l.proposal_id = ?'],
  ['attachments', 'a.id, a.kind, a.original_name, a.size_bytes, a.mime, a.sha256, a.created_at', 'attachments a WHERE a.proposal_id = ?'],
  ['exclusions', 'x.id, x.expert_name, x.expert_institution, x.reason', 'reviewer_exclusions x WHERE x.proposal_id = ?'],
  ['reviewers', 'r.expert_user_id', "review_assignments r WHERE r.proposal_id = ? AND r.status = 'accepted'"],
  ['submissions', 's.id, s.receipt_no, s.snapshot_sha256, s.created_at', 'proposal_submissions s WHERE s.proposal_id = ?'],
] as const;
type ListName = (typeof LISTS)[number][0];

/** The proposal's row (its model's columns, the call's endorsement flag, the 限项 count) and its lists' JSON rows. */
interface BundleRows {
  row: Record<string, unknown>;
  lists: Record<ListName, unknown[]>;
}

const statements = new WeakMap<object, string>();

/**
 * One statement reads the whole bundle: every editor page, every submit and every receipt reads one, and at a
 * deadline each statement more is one more wait for a connection or the writer. The lists are sorted in JS.
 *  - SQLite: one row, each list aggregated into one JSON array column (`json_group_array`).
 *  - MySQL: a UNION ALL of the proposal's row and one row per list item (its JSON in `j`, its list's number in
 *    `k`). MariaDB's JSON_ARRAYAGG keeps its argument in an internal temporary table, which goes to disk when
 *    the argument can be longer than 512 characters (partners, attachments, exclusions): that made the one-row
 *    form cost about 0.9 ms of MariaDB's CPU per read, the union about 0.4 ms.
 */
function bundleStatement(sql: Sql): string {
  let text = statements.get(sql);
  if (text) return text;
  const columns = Object.values(Proposal.getAttributes()).map((a) => `p.${a.field}`);
  const head = `${columns.join(', ')}, c.endorsement_required AS call_endorsement_required, ${OTHER_ACTIVE_OF_P} AS other_active`;
  const proposalRow = `FROM proposals p JOIN calls c ON c.id = p.call_id WHERE p.id = ?`;
  if (sql.dialect === 'sqlite') {
    const agg = ([name, cols, from]: (typeof LISTS)[number]) => `(SELECT ${sql.jsonAgg(`JSON_ARRAY(${cols})`)} FROM ${from.replace('?', 'p.id')}) AS j_${name}`;
    text = `SELECT ${head}, ${LISTS.map(agg).join(', ')} ${proposalRow}`;
  } else {
    const blanks = Array(columns.length + 2).fill('NULL').join(', ');
    text = [`SELECT 0 AS k, ${head}, NULL AS j ${proposalRow}`, ...LISTS.map(([, cols, from], i) => `SELECT ${i + 1}, ${blanks}, JSON_ARRAY(${cols}) FROM ${from}`)].join('\n      UNION ALL ');
  }
  statements.set(sql, text);
  return text;
}

async function readBundle(proposalId: number, transaction?: Transaction): Promise<BundleRows | null> {
  const sql = sqlOf(Proposal.sequelize!);
  const text = bundleStatement(sql);
  if (sql.dialect === 'sqlite') {
    const row = await sql.one<Record<string, unknown>>(text, [proposalId], transaction);
    if (!row) return null;
    return { row, lists: Object.fromEntries(LISTS.map(([name]) => [name, jsonRows(row[`j_${name}`])])) as BundleRows['lists'] };
  }
  const rows = await sql.all<Record<string, unknown> & { k: number | string; j: unknown }>(text, Array(LISTS.length + 1).fill(proposalId), transaction);
  let row: Record<string, unknown> | null = null;
  const lists = Object.fromEntries(LISTS.map(([name]) => [name, [] as unknown[]])) as BundleRows['lists'];
  for (const r of rows) {
    const k = Number(r.k);
    if (k === 0) row = r;
    else lists[LISTS[k - 1]![0]].push(typeof r.j === 'string' ? JSON.parse(r.j) : r.j);
  }
  return row && { row, lists };
}

/** Compare by each key in turn (ids, years, ASCII category codes). */
const byKeys = (...keys: Array<(x: never) => number | string>) => (a: unknown, b: unknown) => {
  for (const k of keys) {
    const x = (k as (v: unknown) => number | string)(a);
    const y = (k as (v: unknown) => number | string)(b);
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
};

/** The proposal and everything that belongs to it, in one statement (see bundleStatement); null when there is none. */
export async function loadBundle(proposalId: number, transaction?: Transaction): Promise<ProposalBundle | null> {
  const read = await readBundle(proposalId, transaction);
  if (!read) return null;
  const { row, lists } = read;
  const partners = (lists.partners as PartnerJson[]).sort(byKeys((p: PartnerJson) => (toBool(p[3]) ? 0 : 1), (p: PartnerJson) => p[12], (p: PartnerJson) => p[0]));
  const lines = (lists.lines as LineJson[]).sort(byKeys((l: LineJson) => l[1], (l: LineJson) => l[2], (l: LineJson) => l[3]));
  const requested = new Map<number, number>();
  for (const l of lines) requested.set(l[1], (requested.get(l[1]) ?? 0) + Number(l[4]));
  return {
    proposal: attributesFromRow(Proposal, row),
    endorsementRequired: toBool(row.call_endorsement_required),
    otherActiveOfPi: Number(row.other_active),
    partners: partners.map((p) => ({
      id: p[0],
      institutionId: p[1],
      institutionName: p[8] ?? '',
      institutionNameEn: p[9] ?? null,
      institutionType: (p[10] ?? 'other') as InstitutionType,
      creditCode: p[11],
      provinceCode: p[2],
      isLead: toBool(p[3]),
      role: p[4],
      contactUserId: p[5],
      selfFundedFen: Number(p[6]),
      confirmedAt: toDate(p[7]),
      requestedFen: requested.get(p[0]) ?? 0,
    })),
    lines: lines.map((l) => ({ id: l[0], partnerId: l[1], year: l[2], category: l[3], amountFen: Number(l[4]) })),
    attachments: (lists.attachments as AttachmentJson[])
      .sort(byKeys((a: AttachmentJson) => a[0]))
      .map((a) => ({ id: a[0], kind: a[1], originalName: a[2], sizeBytes: Number(a[3]), mime: a[4], sha256: a[5], createdAt: toDate(a[6])! })),
    exclusions: (lists.exclusions as ExclusionJson[])
      .sort(byKeys((e: ExclusionJson) => e[0]))
      .map((e) => ({ id: e[0], expertName: e[1], expertInstitution: e[2], reason: e[3] })),
    reviewerUserIds: (lists.reviewers as Array<[number]>).map((r) => r[0]),
    submissions: (lists.submissions as SubmissionJson[])
      .sort(byKeys((x: SubmissionJson) => -x[0]))
      .map((x) => ({ receiptNo: x[1], snapshotSha256: x[2], createdAt: toDate(x[3])! })),
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
export function snapshotOf(b: Pick<ProposalBundle, 'proposal' | 'partners' | 'lines' | 'attachments' | 'exclusions'>): { json: string; sha256: string } {
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
