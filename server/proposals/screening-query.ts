/**
 * The officers' screening list as raw SQL: one indexed read of the proposals rows for the page, one count.
 *
 * Visibility is part of every query: a proposal is listed only when it reaches officers (submitted and, when
 * the call asks for it, endorsed) and one of its consortium's provinces (the row's `province_codes`) is one of
 * the officer's. Per-proposal facts (partners, provinces, requested money, lead type,
 * enterprise self-funding) are the denormalised columns kept by facts.ts in the writers' transactions; the
 * PI's other active proposals (限项) come from the per-(call, PI) count that triggers keep in pi_call_activity
 * (the eligibility filter counts them on an index instead, as submitting does). The eligibility filter is the
 * SQL form of `failedRulesOf` for each call's rules, and each row's summary is `failedRulesOf` itself (the tests prove
 * both agree with `checkEligibility`). Sort columns come from an allowlist; every value is bound. Plain SQL
 * (platform/sql.ts): the page is read on every view and its statement is prepared once.
 */
import type { Sequelize, Transaction } from 'sequelize';
import { named, sqlOf, toDate, type Param, type Sql } from '../platform/sql.js';
import type { CallStatus, EligibilityRules } from '../calls/rules.js';
import type { InstitutionType } from '../people/rules.js';
import { failedRulesOf, type ProposalFacts } from './facts-rules.js';
import { ACTIVE_STATUSES_SQL, OTHER_ACTIVE_OF_P } from './bundle.js';
import type { ProposalStatus, RuleId } from './rules.js';
import { containsPattern } from './screening-rules.js';

export const SCREENING_PAGE_SIZE = 50;
export const SCREENING_STATUSES = ['submitted', 'endorsed', 'eligible', 'ineligible'] as const;
export const SCREENING_SORTS = ['submitted', 'title', 'total', 'receipt'] as const;
export type ScreeningSort = (typeof SCREENING_SORTS)[number];

/** The allowlist: a sort key is mapped to a fixed SQL expression, never spliced from input. */
const SORT_SQL: Record<ScreeningSort, string> = {
  submitted: 'p.submitted_at',
  title: 'p.title',
  total: 'p.total_request_fen',
  receipt: 'p.receipt_no',
};

export interface ScreeningFilters {
  callId: number | null;
  status: '' | (typeof SCREENING_STATUSES)[number];
  province: string;
  leadType: '' | InstitutionType;
  q: string;
  eligibility: '' | 'pass' | 'fail';
  sort: ScreeningSort;
  dir: 'asc' | 'desc';
}

export const DEFAULT_FILTERS: ScreeningFilters = { callId: null, status: '', province: '', leadType: '', q: '', eligibility: '', sort: 'submitted', dir: 'desc' };

/** A call as the screening list needs it (its rules parsed). */
export interface CallScope {
  id: number;
  titleZh: string;
  titleEn: string | null;
  status: CallStatus;
  endorsementRequired: boolean;
  rules: EligibilityRules;
}

export interface ScreeningRow {
  id: number;
  callId: number;
  receiptNo: string;
  title: string;
  status: ProposalStatus;
  submittedAt: Date | null;
  screeningReason: string | null;
  durationMonths: number | null;
  leadName: string;
  leadNameEn: string | null;
  leadType: InstitutionType | null;
  leadProvince: string | null;
  provinces: string[];
  partnerCount: number;
  totalFen: number;
  otherActive: number;
  /** Rules of the call this proposal fails (empty = passes every automatic check). */
  failed: RuleId[];
}

/**
 * Conditions on proposals p: visibility first, then the filters. A submitted proposal reaches officers at once
 * when its call asks for no endorsement; which calls those are comes from the call scopes (fixed once a call is
 * published: settings are locked after publishing), so the query needs no join on calls, which halved MariaDB's
 * cost. A call missing from a scope list a second old hides its submitted proposals for that second rather than
 * showing unendorsed ones.
 */
function whereOf(db: Sql, provinces: string[], calls: CallScope[], f: ScreeningFilters, r: Record<string, Param>): string[] {
  const direct = calls.filter((c) => !c.endorsementRequired).map((c) => c.id);
  if (direct.length) r.directCalls = direct;
  const and = [
    direct.length ? "(p.status IN ('endorsed', 'eligible', 'ineligible') OR (p.status = 'submitted' AND p.call_id IN (:directCalls)))" : "p.status IN ('endorsed', 'eligible', 'ineligible')",
    provinces.length ? `(${provinces.map((code, i) => inProvince(db, `mine${i}`, code, r)).join(' OR ')})` : '1 = 0',
  ];
  if (f.callId !== null) (and.push('p.call_id = :callId'), (r.callId = f.callId));
  if (f.status) (and.push('p.status = :status'), (r.status = f.status));
  if (f.province) and.push(inProvince(db, 'province', f.province, r));
  if (f.leadType) (and.push('p.lead_type = :leadType'), (r.leadType = f.leadType));
  if (f.q) (and.push("(p.title LIKE :q ESCAPE '!' OR p.receipt_no LIKE :q ESCAPE '!')"), (r.q = containsPattern(f.q)));
  return and;
}

/**
 * The row's consortium includes the province `code`: its comma-separated `province_codes` (written by facts.ts
 * in every writer's transaction) contains it between commas. A test on the row itself: the semi-join on a table
 * of (proposal, province) rows it replaced cost MariaDB about 0.3 ms more per page (one index probe for each of
 * a few hundred proposals, and the semi-join planned on every read), and the index never narrowed much, since
 * an officer's provinces are in most consortia.
 */
function inProvince(db: Sql, name: string, code: string, r: Record<string, Param>): string {
  r[name] = `,${code},`;
  return `INSTR(${db.concat("','", 'p.province_codes', "','")}, :${name}) > 0`;
}

/** `failedRulesOf` in SQL over the stored facts of the row p: true when the proposal passes every rule of its call. */
function passesSql(calls: CallScope[], r: Record<string, Param>): string {
  if (!calls.length) return '(1 = 0)';
  const perCall = calls.map((c, i) => {
    const R = c.rules;
    const k = (name: string, v: Param) => ((r[`e${i}${name}`] = v), `:e${i}${name}`);
    const parts = [
      `p.call_id = ${k('call', c.id)}`,
      `p.province_count >= ${k('minProv', R.minProvinces)}`,
      `p.partner_count >= ${k('minPart', R.minPartners)}`,
      `p.partner_count <= ${k('maxPart', R.maxPartners)}`,
      `p.duration_months IS NOT NULL AND p.duration_months >= ${k('minDur', R.minDurationMonths)} AND p.duration_months <= ${k('maxDur', R.maxDurationMonths)}`,
      'p.lead_type IS NOT NULL',
      `${OTHER_ACTIVE_OF_P} < ${k('maxActive', R.maxActivePerPi)}`,
    ];
    if (R.maxTotalRequestFen !== null) parts.push(`p.total_request_fen <= ${k('maxTotal', R.maxTotalRequestFen)}`);
    if (R.maxPerPartnerFen !== null) parts.push(`p.max_partner_request_fen <= ${k('maxPer', R.maxPerPartnerFen)}`);
    if (R.leadInstitutionTypes.length) parts.push(`p.lead_type IN (${k('leadTypes', R.leadInstitutionTypes)})`);
    if (R.minEnterpriseSelfFundingPct > 0) parts.push(`(p.enterprise_min_self_pct IS NULL OR p.enterprise_min_self_pct >= ${k('pct', R.minEnterpriseSelfFundingPct)})`);
    return `(${parts.join(' AND ')})`;
  });
  return `(CASE WHEN (${perCall.join(' OR ')}) THEN 1 ELSE 0 END) = 1`;
}

/** The WHERE of a page and of its count: visibility, filters and, when asked, the eligibility filter. */
function conditions(db: Sql, provinces: string[], calls: CallScope[], f: ScreeningFilters, r: Record<string, Param>): string {
  const and = whereOf(db, provinces, calls, f, r);
  if (f.eligibility) and.push(`${f.eligibility === 'pass' ? '' : 'NOT '}(${passesSql(calls, r)})`);
  return and.join(' AND ');
}

function orderOf(f: ScreeningFilters): string {
  const dir = f.dir === 'asc' ? 'ASC' : 'DESC';
  return `ORDER BY ${SORT_SQL[f.sort]} ${dir}, p.id ${dir}`;
}

/**
 * The PI's other active proposals in the row's call (限项), from the count the triggers of
 * 20261207000100-create-pi-call-activity keep per (call, PI), joined by primary key as `pca`: counting for each
 * row instead (OTHER_ACTIVE_OF_P, still used by the eligibility filter) cost MariaDB a dependent subquery per row.
 */
const OTHER_ACTIVE_KEPT = `COALESCE(pca.active, 0) - CASE WHEN p.status IN (${ACTIVE_STATUSES_SQL}) THEN 1 ELSE 0 END`;

/**
 * The columns of a list row, in the order `toRow` reads them. Each driver gets them in the form that costs its
 * main thread least:
 *  - SQLite: the whole page as one JSON array of rows (a `JSON_ARRAY` per row, joined in page order).
 *    node-sqlite3 turns every column of every row into a JS value one call at a time, and the rows into objects
 *    one at a time; one string parses in a fraction of that (a JSON text per row was 5 % slower).
 *  - MySQL: the plain columns. mysql2's generated row parser reads them as cheaply as one JSON value, and MariaDB
 *    spends about 0.12 ms less per page when it does not build the arrays.
 */
const ROW_COLUMNS = [
  'p.id',
  'p.call_id',
  'p.receipt_no',
  'p.title',
  'p.status',
  'p.submitted_at',
  'p.screening_reason',
  'p.duration_months',
  'li.name_zh',
  'li.name_en',
  'p.lead_type',
  'p.lead_province',
  'p.total_request_fen',
  'p.max_partner_request_fen',
  'p.self_funded_fen',
  'p.partner_count',
  'p.province_count',
  'p.province_codes',
  'p.enterprise_min_self_pct',
  OTHER_ACTIVE_KEPT,
];
const ROW_JSON = `JSON_ARRAY(${ROW_COLUMNS.join(', ')})`;
const ROW_KEYS = ROW_COLUMNS.map((_, i) => `c${i}`);
const ROW_PLAIN = ROW_COLUMNS.map((c, i) => `${c} AS ${ROW_KEYS[i]}`).join(', ');

/** A row's values as a list row with its failed rules. */
function toRow(values: unknown[], rulesOf: Map<number, EligibilityRules>): ScreeningRow {
  const [id, callId, receiptNo, title, status, submittedAt, screeningReason, durationMonths, leadName, leadNameEn, leadType, leadProvince, total, maxPartner, selfFunded, partners, provinceCount, provinceCodes, enterprisePct, others] = values as [number, number, string | null, string, ProposalStatus, string | Date | null, string | null, number | null, string | null, string | null, InstitutionType | null, string | null, number | string, number | string, number | string, number | string, number | string, string | null, number | string | null, number | string];
  const facts: ProposalFacts = {
    totalRequestFen: Number(total),
    maxPartnerRequestFen: Number(maxPartner),
    selfFundedFen: Number(selfFunded),
    partnerCount: Number(partners),
    provinceCount: Number(provinceCount),
    provinces: provinceCodes ? provinceCodes.split(',') : [],
    leadType,
    leadProvince,
    enterpriseMinSelfPct: enterprisePct === null ? null : Number(enterprisePct),
  };
  const rules = rulesOf.get(callId);
  const otherActive = Number(others);
  return {
    id,
    callId,
    receiptNo: receiptNo ?? '',
    title,
    status,
    submittedAt: toDate(submittedAt),
    screeningReason,
    durationMonths,
    leadName: leadName ?? '',
    leadNameEn,
    leadType,
    leadProvince,
    provinces: facts.provinces,
    partnerCount: facts.partnerCount,
    totalFen: facts.totalRequestFen,
    otherActive,
    failed: rules ? failedRulesOf(rules, facts, durationMonths, otherActive) : [],
  };
}

export interface PageRequest {
  limit: number;
  offset: number;
}

export interface ScreeningPage {
  rows: ScreeningRow[];
  /** How many proposals the filters match in all. */
  count: number;
}

/**
 * One page of the screening list and the number of matches, in one statement: the page's ids are picked on
 * the indexed columns (with COUNT(*) OVER () for the total), then only those rows are read in full, with their
 * PI's kept count of active proposals in the call (OTHER_ACTIVE_KEPT). A page past the end falls back to a plain count.
 */
export async function screeningPage(sequelize: Sequelize, provinces: string[], calls: CallScope[], f: ScreeningFilters, page: PageRequest, transaction?: Transaction): Promise<ScreeningPage> {
  const limit = Math.max(1, Math.min(100_000, Math.trunc(page.limit)));
  const offset = Math.max(0, Math.trunc(page.offset));
  const r: Record<string, Param> = {};
  const dir = f.dir === 'asc' ? 'ASC' : 'DESC';
  const db = sqlOf(sequelize);
  const from = `FROM (
    SELECT p.id, ${SORT_SQL[f.sort]} AS k, COUNT(*) OVER () AS n FROM proposals p
    WHERE ${conditions(db, provinces, calls, f, r)}
    ${orderOf(f)} LIMIT ${limit} OFFSET ${offset}
  ) pg
    JOIN proposals p ON p.id = pg.id
    LEFT JOIN institutions li ON li.id = p.lead_institution_id
    LEFT JOIN pi_call_activity pca ON pca.call_id = p.call_id AND pca.pi_user_id = p.pi_user_id`;
  const order = `pg.k ${dir}, pg.id ${dir}`;
  // Each row's values in the order of ROW_COLUMNS, and the matches in all (null when the page is empty).
  let values: unknown[][];
  let total: number | string | null;
  if (db.dialect === 'sqlite') {
    // group_concat, not json_group_array: SQLite 3.44 loses the JSON subtype of a value through an aggregate's
    // ORDER BY and would quote each row as a string.
    const page = await db.one<{ rows: string; n: number | null }>(...named(`SELECT '[' || COALESCE(group_concat(${ROW_JSON}, ',' ORDER BY ${order}), '') || ']' AS rows, MAX(pg.n) AS n ${from}`, r), transaction);
    values = page ? (JSON.parse(page.rows) as unknown[][]) : [];
    total = page?.n ?? null;
  } else {
    const raw = await db.all<Record<string, unknown>>(...named(`SELECT ${ROW_PLAIN}, pg.n ${from} ORDER BY ${order}`, r), transaction);
    values = raw.map((x) => ROW_KEYS.map((k) => x[k]));
    total = raw.length ? (raw[0]!.n as number | string) : null;
  }
  const rulesOf = new Map(calls.map((c) => [c.id, c.rules]));
  const count = total !== null ? Number(total) : offset > 0 ? await screeningCount(sequelize, provinces, calls, f, transaction) : 0;
  return { rows: values.map((v) => toRow(v, rulesOf)), count };
}

/** The rows of a page (the export asks for all of them at once). */
export async function screeningRows(sequelize: Sequelize, provinces: string[], calls: CallScope[], f: ScreeningFilters, page: PageRequest, transaction?: Transaction): Promise<ScreeningRow[]> {
  return (await screeningPage(sequelize, provinces, calls, f, page, transaction)).rows;
}

/** How many proposals the filters match. */
export async function screeningCount(sequelize: Sequelize, provinces: string[], calls: CallScope[], f: ScreeningFilters, transaction?: Transaction): Promise<number> {
  const r: Record<string, Param> = {};
  const db = sqlOf(sequelize);
  const sql = `SELECT COUNT(*) AS n FROM proposals p WHERE ${conditions(db, provinces, calls, f, r)}`;
  const row = await db.one<{ n: number | string }>(...named(sql, r), transaction);
  return Number(row?.n ?? 0);
}
