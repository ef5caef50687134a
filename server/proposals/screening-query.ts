/**
 * The officers' screening list as raw SQL: one indexed read of the proposals rows for the page, one count.
 *
 * Visibility is part of every query: a proposal is listed only when it reaches officers (submitted and, when
 * the call asks for it, endorsed) and one of its consortium's provinces (proposal_provinces, indexed by
 * province) is one of the officer's. Per-proposal facts (partners, provinces, requested money, lead type,
 * enterprise self-funding) are the denormalised columns kept by facts.ts in the writers' transactions; the
 * PI's other active proposals (限项) are counted per row on an index. The eligibility filter is the SQL form
 * of `failedRulesOf` for each call's rules, and each row's summary is `failedRulesOf` itself (the tests prove
 * both agree with `checkEligibility`). Sort columns come from an allowlist; every value is bound.
 */
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import type { CallStatus, EligibilityRules } from '../calls/rules.js';
import type { InstitutionType } from '../people/rules.js';
import { failedRulesOf, type ProposalFacts } from './facts-rules.js';
import { ACTIVE_STATUSES, type ProposalStatus, type RuleId } from './rules.js';
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

/** Conditions on proposals p and calls c: visibility first (on the proposal_provinces index), then the filters. */
function whereOf(provinces: string[], f: ScreeningFilters, r: Record<string, unknown>): string[] {
  r.myProvinces = provinces.length ? provinces : ['-'];
  const and = [
    "(p.status IN ('endorsed', 'eligible', 'ineligible') OR (p.status = 'submitted' AND c.endorsement_required = 0))",
    'p.id IN (SELECT vp.proposal_id FROM proposal_provinces vp WHERE vp.province_code IN (:myProvinces))',
  ];
  if (f.callId !== null) (and.push('p.call_id = :callId'), (r.callId = f.callId));
  if (f.status) (and.push('p.status = :status'), (r.status = f.status));
  if (f.province) (and.push('p.id IN (SELECT fp.proposal_id FROM proposal_provinces fp WHERE fp.province_code = :province)'), (r.province = f.province));
  if (f.leadType) (and.push('p.lead_type = :leadType'), (r.leadType = f.leadType));
  if (f.q) (and.push("(p.title LIKE :q ESCAPE '!' OR p.receipt_no LIKE :q ESCAPE '!')"), (r.q = containsPattern(f.q)));
  return and;
}

/** Count of the PI's other active proposals in the same call (the 限项 rule), for the row p (index call_id, pi_user_id, status). */
const OTHER_ACTIVE =
  '(SELECT COUNT(*) FROM proposals o WHERE o.call_id = p.call_id AND o.pi_user_id = p.pi_user_id AND o.id <> p.id AND o.status IN (:active))';

/** `failedRulesOf` in SQL over the stored facts of the row p: true when the proposal passes every rule of its call. */
function passesSql(calls: CallScope[], r: Record<string, unknown>): string {
  if (!calls.length) return '(1 = 0)';
  const perCall = calls.map((c, i) => {
    const R = c.rules;
    const k = (name: string, v: unknown) => ((r[`e${i}${name}`] = v), `:e${i}${name}`);
    const parts = [
      `p.call_id = ${k('call', c.id)}`,
      `p.province_count >= ${k('minProv', R.minProvinces)}`,
      `p.partner_count >= ${k('minPart', R.minPartners)}`,
      `p.partner_count <= ${k('maxPart', R.maxPartners)}`,
      `p.duration_months IS NOT NULL AND p.duration_months >= ${k('minDur', R.minDurationMonths)} AND p.duration_months <= ${k('maxDur', R.maxDurationMonths)}`,
      'p.lead_type IS NOT NULL',
      `${OTHER_ACTIVE} < ${k('maxActive', R.maxActivePerPi)}`,
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
function conditions(provinces: string[], calls: CallScope[], f: ScreeningFilters, r: Record<string, unknown>): string {
  const and = whereOf(provinces, f, r);
  if (f.eligibility) and.push(`${f.eligibility === 'pass' ? '' : 'NOT '}(${passesSql(calls, r)})`);
  return and.join(' AND ');
}

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
  total_request_fen: number | string;
  max_partner_request_fen: number | string;
  self_funded_fen: number | string;
  partner_count: number | string;
  province_count: number | string;
  province_codes: string;
  enterprise_min_self_pct: number | string | null;
  other_active: number | string;
}

/** SQLite hands DATE columns back as 'YYYY-MM-DD HH:MM:SS.mmm +00:00'; MySQL as Date. */
export function toDate(v: Date | string | null): Date | null {
  if (v === null || v instanceof Date) return v;
  const d = new Date(v.replace(' ', 'T').replace(' ', ''));
  return Number.isNaN(d.getTime()) ? null : d;
}

function factsOf(raw: RawRow): ProposalFacts {
  return {
    totalRequestFen: Number(raw.total_request_fen),
    maxPartnerRequestFen: Number(raw.max_partner_request_fen),
    selfFundedFen: Number(raw.self_funded_fen),
    partnerCount: Number(raw.partner_count),
    provinceCount: Number(raw.province_count),
    provinces: raw.province_codes ? raw.province_codes.split(',') : [],
    leadType: raw.lead_type,
    leadProvince: raw.lead_province,
    enterpriseMinSelfPct: raw.enterprise_min_self_pct === null ? null : Number(raw.enterprise_min_self_pct),
  };
}

function toRow(raw: RawRow, rulesOf: Map<number, EligibilityRules>): ScreeningRow {
  const facts = factsOf(raw);
  const rules = rulesOf.get(raw.call_id);
  const otherActive = Number(raw.other_active);
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
    leadType: facts.leadType,
    leadProvince: facts.leadProvince,
    provinces: facts.provinces,
    partnerCount: facts.partnerCount,
    totalFen: facts.totalRequestFen,
    otherActive,
    failed: rules ? failedRulesOf(rules, facts, raw.duration_months, otherActive) : [],
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
 * the indexed columns (with COUNT(*) OVER () for the total), then only those rows are read in full and get
 * their PI's other active proposals counted. A page past the end falls back to a plain count.
 */
export async function screeningPage(sequelize: Sequelize, provinces: string[], calls: CallScope[], f: ScreeningFilters, page: PageRequest, transaction?: Transaction): Promise<ScreeningPage> {
  const limit = Math.max(1, Math.min(100_000, Math.trunc(page.limit)));
  const offset = Math.max(0, Math.trunc(page.offset));
  const r: Record<string, unknown> = { active: [...ACTIVE_STATUSES] };
  const dir = f.dir === 'asc' ? 'ASC' : 'DESC';
  const sql = `SELECT p.id, p.call_id, p.receipt_no, p.title, p.status, p.submitted_at, p.screening_reason, p.duration_months,
    li.name_zh AS lead_name, li.name_en AS lead_name_en, p.lead_type, p.lead_province, p.total_request_fen, p.max_partner_request_fen,
    p.self_funded_fen, p.partner_count, p.province_count, p.province_codes, p.enterprise_min_self_pct, ${OTHER_ACTIVE} AS other_active, pg.n
  FROM (
    SELECT p.id, ${SORT_SQL[f.sort]} AS k, COUNT(*) OVER () AS n FROM proposals p JOIN calls c ON c.id = p.call_id
    WHERE ${conditions(provinces, calls, f, r)}
    ${orderOf(f)} LIMIT ${limit} OFFSET ${offset}
  ) pg
    JOIN proposals p ON p.id = pg.id
    LEFT JOIN institutions li ON li.id = p.lead_institution_id
  ORDER BY pg.k ${dir}, pg.id ${dir}`;
  const raw = await sequelize.query<RawRow & { n: number | string }>(sql, { type: QueryTypes.SELECT, replacements: r, transaction });
  const rulesOf = new Map(calls.map((c) => [c.id, c.rules]));
  const count = raw.length ? Number(raw[0]!.n) : offset > 0 ? await screeningCount(sequelize, provinces, calls, f, transaction) : 0;
  return { rows: raw.map((x) => toRow(x, rulesOf)), count };
}

/** The rows of a page (the export asks for all of them at once). */
export async function screeningRows(sequelize: Sequelize, provinces: string[], calls: CallScope[], f: ScreeningFilters, page: PageRequest, transaction?: Transaction): Promise<ScreeningRow[]> {
  return (await screeningPage(sequelize, provinces, calls, f, page, transaction)).rows;
}

/** How many proposals the filters match. */
export async function screeningCount(sequelize: Sequelize, provinces: string[], calls: CallScope[], f: ScreeningFilters, transaction?: Transaction): Promise<number> {
  const r: Record<string, unknown> = { active: [...ACTIVE_STATUSES] };
  const sql = `SELECT COUNT(*) AS n FROM proposals p JOIN calls c ON c.id = p.call_id WHERE ${conditions(provinces, calls, f, r)}`;
  const [row] = await sequelize.query<{ n: number | string }>(sql, { type: QueryTypes.SELECT, replacements: r, transaction });
  return Number(row?.n ?? 0);
}
