/**
 * The officers' screening list as raw SQL: one query for the page, one for the count (no N+1).
 *
 * Visibility is part of every query: a proposal is listed only when it reaches officers (submitted and, when
 * the call asks for it, endorsed) and one of its consortium's partners is in one of the officer's provinces.
 * Per-proposal facts (partners, provinces, requested money, lead type, enterprise self-funding, the PI's other
 * active proposals) are aggregated in the same statement; the eligibility filter is the SQL form of
 * `checkEligibility` for each call's rules, and the page's summary is `checkEligibility` itself run on the
 * aggregated facts (the tests prove both agree). Sort columns come from an allowlist; every value is bound.
 */
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import type { CallStatus, EligibilityRules } from '../calls/rules.js';
import { INSTITUTION_TYPES, type InstitutionType } from '../people/rules.js';
import { ACTIVE_STATUSES, checkEligibility, type PartnerFacts, type ProposalStatus, type RuleId } from './rules.js';
import { containsPattern } from './screening-rules.js';

export const SCREENING_PAGE_SIZE = 50;
export const SCREENING_STATUSES = ['submitted', 'endorsed', 'eligible', 'ineligible'] as const;
export const SCREENING_SORTS = ['submitted', 'title', 'total', 'receipt'] as const;
export type ScreeningSort = (typeof SCREENING_SORTS)[number];

/** The allowlist: a sort key is mapped to a fixed SQL expression, never spliced from input. */
const SORT_SQL: Record<ScreeningSort, string> = {
  submitted: 'p.submitted_at',
  title: 'p.title',
  total: 'COALESCE(f.total_fen, 0)',
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

interface Built {
  sql: string;
  replacements: Record<string, unknown>;
}

/** Conditions on proposals p, calls c and the lead institution li: visibility first, then the filters. */
function whereOf(provinces: string[], f: ScreeningFilters): Built {
  const replacements: Record<string, unknown> = { myProvinces: provinces.length ? provinces : ['-'] };
  const and = [
    "(p.status IN ('endorsed', 'eligible', 'ineligible') OR (p.status = 'submitted' AND c.endorsement_required = 0))",
    'EXISTS (SELECT 1 FROM proposal_partners vp WHERE vp.proposal_id = p.id AND vp.province_code IN (:myProvinces))',
  ];
  if (f.callId !== null) (and.push('p.call_id = :callId'), (replacements.callId = f.callId));
  if (f.status) (and.push('p.status = :status'), (replacements.status = f.status));
  if (f.province) (and.push('EXISTS (SELECT 1 FROM proposal_partners fp WHERE fp.proposal_id = p.id AND fp.province_code = :province)'), (replacements.province = f.province));
  if (f.leadType) (and.push('li.type = :leadType'), (replacements.leadType = f.leadType));
  if (f.q) (and.push("(p.title LIKE :q ESCAPE '!' OR p.receipt_no LIKE :q ESCAPE '!')"), (replacements.q = containsPattern(f.q)));
  return { sql: and.join(' AND '), replacements };
}

/** Count of the PI's other active proposals in the same call (the 限项 rule), for the row p. */
const OTHER_ACTIVE =
  '(SELECT COUNT(*) FROM proposals o WHERE o.call_id = p.call_id AND o.pi_user_id = p.pi_user_id AND o.id <> p.id AND o.status IN (:active))';

/**
 * The enterprise self-funding percentage of each call, as a bound CASE over the scope's call id; calls without
 * the rule give 0 (no partner is then counted short).
 */
function pctExpr(calls: CallScope[], r: Record<string, unknown>): string {
  const withRule = calls.filter((c) => c.rules.minEnterpriseSelfFundingPct > 0);
  if (!withRule.length) return '0';
  const whens = withRule.map((c, i) => {
    r[`pc${i}`] = c.id;
    r[`pp${i}`] = c.rules.minEnterpriseSelfFundingPct;
    return `WHEN :pc${i} THEN :pp${i}`;
  });
  return `(CASE pr.call_id ${whens.join(' ')} ELSE 0 END)`;
}

/** `checkEligibility` in SQL over the facts f of a row: true when the proposal passes every rule of its call. */
function passesSql(calls: CallScope[], r: Record<string, unknown>): string {
  if (!calls.length) return '(1 = 0)';
  const perCall = calls.map((c, i) => {
    const R = c.rules;
    const k = (name: string, v: unknown) => ((r[`e${i}${name}`] = v), `:e${i}${name}`);
    const parts = [
      `p.call_id = ${k('call', c.id)}`,
      `COALESCE(f.n_provinces, 0) >= ${k('minProv', R.minProvinces)}`,
      `COALESCE(f.n_partners, 0) >= ${k('minPart', R.minPartners)}`,
      `COALESCE(f.n_partners, 0) <= ${k('maxPart', R.maxPartners)}`,
      `p.duration_months IS NOT NULL AND p.duration_months >= ${k('minDur', R.minDurationMonths)} AND p.duration_months <= ${k('maxDur', R.maxDurationMonths)}`,
      'COALESCE(f.lead_count, 0) > 0',
      `${OTHER_ACTIVE} < ${k('maxActive', R.maxActivePerPi)}`,
    ];
    if (R.maxTotalRequestFen !== null) parts.push(`COALESCE(f.total_fen, 0) <= ${k('maxTotal', R.maxTotalRequestFen)}`);
    if (R.maxPerPartnerFen !== null) parts.push(`COALESCE(f.max_req, 0) <= ${k('maxPer', R.maxPerPartnerFen)}`);
    if (R.leadInstitutionTypes.length) parts.push(`f.lead_type IN (${k('leadTypes', R.leadInstitutionTypes)})`);
    if (R.minEnterpriseSelfFundingPct > 0) parts.push('COALESCE(f.short_ent, 0) = 0');
    return `(${parts.join(' AND ')})`;
  });
  return `(CASE WHEN (${perCall.join(' OR ')}) THEN 1 ELSE 0 END) = 1`;
}

/**
 * The CTEs: `scope` (visible, filtered proposals — already one page when `pageOf` is given), `preq` (each
 * partner with its requested money; grouped, so it is computed once rather than merged into every use of
 * `req`) and `facts` (per-proposal aggregates).
 */
function withFacts(sequelize: Sequelize, provinces: string[], calls: CallScope[], f: ScreeningFilters, r: Record<string, unknown>, pageOf: string | null): string {
  const w = whereOf(provinces, f);
  Object.assign(r, w.replacements);
  const mysql = sequelize.getDialect() !== 'sqlite';
  // Compact per-partner text (province|type initial|lead|requested|self-funded) keeps far below GROUP_CONCAT's 1,024 bytes.
  const cols = ['pr.province_code', 'SUBSTR(pr.inst_type, 1, 1)', 'pr.is_lead', 'pr.req', 'pr.self_funded_fen'];
  // Drive the aggregation from the (small) scope: the planners otherwise start from all partners.
  const first = mysql ? 'STRAIGHT_JOIN' : 'CROSS JOIN';
  const partnerText = mysql ? `CONCAT(${cols.join(", '|', ")})` : cols.join(" || '|' || ");
  return `WITH scope AS (
    SELECT p.id, p.call_id FROM proposals p
      JOIN calls c ON c.id = p.call_id
      LEFT JOIN institutions li ON li.id = p.lead_institution_id
    WHERE ${w.sql}${pageOf ?? ''}
  ),
  preq AS (
    SELECT pp.proposal_id, s.call_id, pp.province_code, CASE WHEN pp.is_lead = 1 THEN 1 ELSE 0 END AS is_lead, pp.self_funded_fen, i.type AS inst_type,
      COALESCE(SUM(bl.amount_fen), 0) AS req
    FROM scope s
      ${first} proposal_partners pp ON pp.proposal_id = s.id
      ${first} institutions i ON i.id = pp.institution_id
      LEFT JOIN budget_lines bl ON bl.partner_id = pp.id
    GROUP BY pp.id, pp.proposal_id, s.call_id, pp.province_code, pp.is_lead, pp.self_funded_fen, i.type
  ),
  facts AS (
    SELECT pr.proposal_id,
      COUNT(*) AS n_partners,
      COUNT(DISTINCT pr.province_code) AS n_provinces,
      SUM(pr.req) AS total_fen,
      MAX(pr.req) AS max_req,
      SUM(pr.is_lead) AS lead_count,
      MAX(CASE WHEN pr.is_lead = 1 THEN pr.inst_type END) AS lead_type,
      SUM(CASE WHEN pr.inst_type = 'enterprise' AND pr.self_funded_fen * 100 < pr.req * ${pctExpr(calls, r)} THEN 1 ELSE 0 END) AS short_ent,
      GROUP_CONCAT(${partnerText}) AS partners_text
    FROM preq pr
    GROUP BY pr.proposal_id
  )`;
}

const FROM_ROWS = `FROM scope s
    JOIN proposals p ON p.id = s.id
    JOIN calls c ON c.id = p.call_id
    LEFT JOIN institutions li ON li.id = p.lead_institution_id
    LEFT JOIN facts f ON f.proposal_id = p.id`;

function orderOf(f: ScreeningFilters): string {
  const dir = f.dir === 'asc' ? 'ASC' : 'DESC';
  return `ORDER BY ${SORT_SQL[f.sort]} ${dir}, p.id ${dir}`;
}

interface RawRow {
  id: number;
  call_id: number;
  receipt_no: string | null;
  title: string;
  status: ProposalStatus;
  submitted_at: Date | string | null;
  screening_reason: string | null;
  duration_months: number | null;
  lead_name: string | null;
  lead_name_en: string | null;
  lead_type: InstitutionType | null;
  lead_province: string | null;
  total_fen: number | string | null;
  partners_text: string | Buffer | null;
  other_active: number | string;
}

/** SQLite hands DATE columns back as 'YYYY-MM-DD HH:MM:SS.mmm +00:00'; MySQL as Date. */
export function toDate(v: Date | string | null): Date | null {
  if (v === null || v instanceof Date) return v;
  const d = new Date(v.replace(' ', 'T').replace(' ', ''));
  return Number.isNaN(d.getTime()) ? null : d;
}

const TYPE_BY_INITIAL = new Map<string, InstitutionType>(INSTITUTION_TYPES.map((t) => [t[0]!, t]));

function partnersOf(text: string | Buffer | null): PartnerFacts[] {
  if (!text) return [];
  return String(text)
    .split(',')
    .filter(Boolean)
    .map((s) => {
      const [provinceCode, type, isLead, req, self] = s.split('|');
      return { institutionId: 0, provinceCode: provinceCode!, type: TYPE_BY_INITIAL.get(type ?? '') ?? 'other', isLead: isLead === '1', requestedFen: Number(req), selfFundedFen: Number(self), confirmed: true };
    });
}

function toRow(raw: RawRow, rulesOf: Map<number, EligibilityRules>): ScreeningRow {
  const partners = partnersOf(raw.partners_text);
  partners.sort((a, b) => Number(b.isLead) - Number(a.isLead));
  const rules = rulesOf.get(raw.call_id);
  const otherActive = Number(raw.other_active);
  const failed = rules ? checkEligibility(rules, { durationMonths: raw.duration_months, partners, otherActiveOfPi: otherActive }).filter((x) => !x.ok).map((x) => x.rule) : [];
  return {
    id: raw.id,
    callId: raw.call_id,
    receiptNo: raw.receipt_no ?? '',
    title: raw.title,
    status: raw.status,
    submittedAt: toDate(raw.submitted_at),
    screeningReason: raw.screening_reason,
    durationMonths: raw.duration_months,
    leadName: raw.lead_name ?? '',
    leadNameEn: raw.lead_name_en,
    leadType: raw.lead_type,
    leadProvince: raw.lead_province,
    provinces: [...new Set(partners.map((p) => p.provinceCode))].sort(),
    partnerCount: partners.length,
    totalFen: Number(raw.total_fen ?? 0),
    otherActive,
    failed,
  };
}

export interface PageRequest {
  limit: number;
  offset: number;
}

/** One page of the screening list (also the export, with a large limit): a single SQL statement. */
export async function screeningRows(sequelize: Sequelize, provinces: string[], calls: CallScope[], f: ScreeningFilters, page: PageRequest, transaction?: Transaction): Promise<ScreeningRow[]> {
  const limit = Math.max(1, Math.min(100_000, Math.trunc(page.limit)));
  const offset = Math.max(0, Math.trunc(page.offset));
  const r: Record<string, unknown> = { active: [...ACTIVE_STATUSES] };
  // Cheap path: when neither the sort nor a filter needs the aggregates, pick the page first and aggregate 50 rows.
  const pageFirst = f.sort !== 'total' && !f.eligibility;
  const limitSql = ` LIMIT ${limit} OFFSET ${offset}`;
  const cte = withFacts(sequelize, provinces, calls, f, r, pageFirst ? ` ${orderOf(f)}${limitSql}` : null);
  const where = f.eligibility ? `WHERE ${f.eligibility === 'pass' ? '' : 'NOT '}(${passesSql(calls, r)})` : '';
  const sql = `${cte}
  SELECT p.id, p.call_id, p.receipt_no, p.title, p.status, p.submitted_at, p.screening_reason, p.duration_months,
    li.name_zh AS lead_name, li.name_en AS lead_name_en, li.type AS lead_type, li.province_code AS lead_province,
    f.total_fen, f.partners_text, ${OTHER_ACTIVE} AS other_active
  ${FROM_ROWS}
  ${where}
  ${orderOf(f)}${pageFirst ? '' : limitSql}`;
  const raw = await sequelize.query<RawRow>(sql, { type: QueryTypes.SELECT, replacements: r, transaction });
  const rulesOf = new Map(calls.map((c) => [c.id, c.rules]));
  return raw.map((x) => toRow(x, rulesOf));
}

/** How many proposals the filters match (the second statement of a page). */
export async function screeningCount(sequelize: Sequelize, provinces: string[], calls: CallScope[], f: ScreeningFilters, transaction?: Transaction): Promise<number> {
  const r: Record<string, unknown> = { active: [...ACTIVE_STATUSES] };
  let sql: string;
  if (f.eligibility) {
    const cte = withFacts(sequelize, provinces, calls, f, r, null);
    sql = `${cte} SELECT COUNT(*) AS n ${FROM_ROWS} WHERE ${f.eligibility === 'pass' ? '' : 'NOT '}(${passesSql(calls, r)})`;
  } else {
    const w = whereOf(provinces, f);
    Object.assign(r, w.replacements);
    sql = `SELECT COUNT(*) AS n FROM proposals p JOIN calls c ON c.id = p.call_id LEFT JOIN institutions li ON li.id = p.lead_institution_id WHERE ${w.sql}`;
  }
  const [row] = await sequelize.query<{ n: number | string }>(sql, { type: QueryTypes.SELECT, replacements: r, transaction });
  return Number(row?.n ?? 0);
}
