/**
 * View models of the endorsement and screening pages: plain objects in the page's language, money in 元.
 * Views never receive model instances, req.query or req.body.
 */
import { tFor } from '../platform/i18n.js';
import { formatDateTime, translate } from '../platform/views.js';
import type { EndorsementRow } from './endorsement-service.js';
import { formatYuan } from './rules.js';
import type { CallScope, ScreeningFilters, ScreeningRow } from './screening-query.js';
import { ruleLines } from './screening-rules.js';
import type { ScreeningReport } from './screening-service.js';

const pick = (lang: string, zh: string, en: string | null | undefined) => (lang === 'en' && en ? en : zh);

/** Labels of one kind (provinces, statuses, rules) in one language, by code: a list page asks the same few hundreds of times. */
class Labels {
  private readonly byCode = new Map<string, string>();
  constructor(
    private readonly lang: string,
    private readonly prefix: string,
  ) {}
  of(code: string): string {
    let s = this.byCode.get(code);
    if (s === undefined) this.byCode.set(code, (s = translate(this.lang, `${this.prefix}.${code}`)));
    return s;
  }
}
const labelTables = new Map<string, Map<string, Labels>>();
function labelsOf(lang: string, prefix: string): Labels {
  let byPrefix = labelTables.get(lang);
  if (!byPrefix) labelTables.set(lang, (byPrefix = new Map()));
  let table = byPrefix.get(prefix);
  if (!table) byPrefix.set(prefix, (table = new Labels(lang, prefix)));
  return table;
}

/**
 * One row of the screening list with every label already in the page's language (the row template only
 * prints strings: 50 rows × a dozen helper calls was a large part of the page's cost).
 */
export function screeningRowView(r: ScreeningRow, calls: Map<number, CallScope>, lang: string) {
  const call = calls.get(r.callId);
  const provinces = labelsOf(lang, 'common:provinces');
  const ruleNames = labelsOf(lang, 'screening:ruleNames');
  const passes = r.failed.length === 0;
  return {
    id: r.id,
    receiptNo: r.receiptNo,
    title: r.title,
    callTitle: call ? pick(lang, call.titleZh, call.titleEn) : '',
    lead: pick(lang, r.leadName, r.leadNameEn),
    leadProvince: r.leadProvince ? provinces.of(r.leadProvince) : '',
    provinces: r.provinces.map((code) => provinces.of(code)),
    total: formatYuan(r.totalFen),
    status: r.status,
    statusLabel: labelsOf(lang, 'screening:status').of(r.status),
    submittedAt: formatDateTime(r.submittedAt, lang),
    passes,
    eligibilityLabel: labelsOf(lang, 'screening:eligibility').of(passes ? 'passes' : 'fails'),
    failed: r.failed.map((rule) => ruleNames.of(rule)),
  };
}

/** The filter form's values as strings (what the inputs show) and as link parameters for the pager / sort / export. */
export function filterValues(f: ScreeningFilters): Record<string, string> {
  return {
    call: f.callId === null ? '' : String(f.callId),
    status: f.status,
    province: f.province,
    leadType: f.leadType,
    q: f.q,
    eligibility: f.eligibility,
    sort: f.sort === 'submitted' ? '' : f.sort,
    dir: f.dir === 'desc' ? '' : f.dir,
  };
}

export function queryString(values: Record<string, string>, extra: Record<string, string> = {}): string {
  let s = '';
  for (const [k, v] of Object.entries({ ...values, ...extra })) if (v) s += `${s ? '&' : '?'}${encodeURIComponent(k)}=${encodeURIComponent(v)}`;
  return s;
}

/** Column headers that sort: the link flips the direction of the current sort column. */
export function sortLinks(f: ScreeningFilters, values: Record<string, string>) {
  const out: Record<string, { href: string; current: boolean; ariaSort: string }> = {};
  for (const key of ['receipt', 'title', 'total', 'submitted'] as const) {
    const current = f.sort === key;
    const dir = current && f.dir === 'desc' ? 'asc' : 'desc';
    out[key] = {
      href: `/screening${queryString({ ...values, sort: key === 'submitted' ? '' : key, dir: dir === 'desc' ? '' : dir })}`,
      current,
      ariaSort: current ? (f.dir === 'asc' ? 'ascending' : 'descending') : 'none',
    };
  }
  return out;
}

export function endorsementRowView(r: EndorsementRow, lang: string) {
  return {
    id: r.id,
    receiptNo: r.receiptNo,
    title: r.title,
    status: r.status,
    pending: r.status === 'submitted',
    submittedAt: r.submittedAt,
    piName: r.piName,
    callTitle: pick(lang, r.callTitleZh, r.callTitleEn),
    endorsementDeadlineAt: r.endorsementDeadlineAt,
    provinces: r.provinces,
    total: formatYuan(r.totalFen),
  };
}

/** The proposal summary shared by the endorsement and screening detail pages, with the eligibility report. */
export function proposalSummary(report: ScreeningReport, lang: string) {
  const t = tFor(lang);
  const { bundle, call, rules, results } = report;
  const p = bundle.proposal;
  const total = bundle.partners.reduce((a, x) => a + x.requestedFen, 0);
  const byProvince = new Map<string, number>();
  for (const x of bundle.partners) byProvince.set(x.provinceCode, (byProvince.get(x.provinceCode) ?? 0) + x.requestedFen);
  const lines = ruleLines(rules, results, (type) => String(t(`people:types.${type}`)), String(t('screening:rules.noLimit')));
  return {
    id: p.id,
    title: p.title,
    titleEn: p.titleEn ?? '',
    receiptNo: p.receiptNo ?? '',
    status: p.status,
    submittedAt: p.submittedAt,
    durationMonths: p.durationMonths,
    keywords: p.keywords ?? '',
    endorsedAt: p.endorsedAt,
    screenedAt: p.screenedAt,
    screeningReason: p.screeningReason ?? '',
    call: { id: call.id, title: pick(lang, call.titleZh, call.titleEn), endorsementRequired: !!call.endorsementRequired, endorsementDeadlineAt: call.endorsementDeadlineAt, status: call.status },
    partners: bundle.partners.map((x) => ({
      name: pick(lang, x.institutionName, x.institutionNameEn),
      province: x.provinceCode,
      type: x.institutionType,
      isLead: x.isLead,
      requested: formatYuan(x.requestedFen),
      selfFunded: formatYuan(x.selfFundedFen),
    })),
    total: formatYuan(total),
    byProvince: [...byProvince.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([province, fen]) => ({ province, amount: formatYuan(fen) })),
    report: lines.map((l) => ({ rule: l.rule, ok: l.ok, name: String(t(`screening:ruleNames.${l.rule}`)), text: String(t(l.key, l.params)) })),
    failedCount: lines.filter((l) => !l.ok).length,
  };
}
