/**
 * View models of the proposal pages: plain objects built from the bundle, the call settings and the checklist.
 * Templates never see model instances. Messages that carry values (checklist items) are translated here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type Handlebars from 'handlebars';
import { ROOT } from '../config.js';
import type { AttachmentKind, BudgetCategory } from '../calls/rules.js';
import type { FieldErrors } from '../platform/forms.js';
import { compileView, translate } from '../platform/views.js';
import { tFor } from '../platform/i18n.js';
import type { ProposalBundle } from './bundle.js';
import { EDITOR_STEPS, formatYuan, type BudgetTotals, type ChecklistItem, type EditorStep } from './rules.js';
import { cellName, EXCLUSION_SLOTS } from './schema.js';
import { budgetYears, windowOf, type CallSettings, type Evaluation } from './service.js';

/** Partials of the proposal views (views/proposals/partials), passed per render: views/partials is shared. */
let partials: Record<string, Handlebars.TemplateDelegate> | null = null;
export function proposalPartials(): Record<string, Handlebars.TemplateDelegate> {
  if (partials && process.env.NODE_ENV !== 'development') return partials;
  const dir = path.join(ROOT, 'views', 'proposals', 'partials');
  const out: Record<string, Handlebars.TemplateDelegate> = {};
  for (const name of ['steps', 'checklist', 'budget-grid', 'budget-totals', 'summary', 'editor-head']) {
    out[`proposal-${name}`] = compileView(readFileSync(path.join(dir, `${name}.hbs`), 'utf8'));
  }
  return (partials = out);
}

const bi = (lang: string, zh: string, en: string | null | undefined) => (lang === 'en' && en ? en : zh);

export function kindName(lang: string, kinds: AttachmentKind[], code: string): string {
  const k = kinds.find((x) => x.code === code);
  return k ? bi(lang, k.nameZh, k.nameEn) : code;
}

export function categoryName(lang: string, categories: BudgetCategory[], code: string): string {
  const c = categories.find((x) => x.code === code);
  return c ? bi(lang, c.nameZh, c.nameEn) : code;
}

export function stepHref(proposalId: number, step: EditorStep): string {
  return `/proposals/${proposalId}/edit/${step}`;
}

/** One checklist item as a sentence in the page's language. */
export function checklistMessage(lang: string, call: CallSettings, item: ChecklistItem): string {
  // The memoised translate (views.ts): every editor page and receipt shows the whole checklist.
  const t = (key: string, params?: Record<string, string | number>) => translate(lang, key, params);
  const params: Record<string, string | number> = { ...(item.params ?? {}) };
  if (item.key === 'attachment') params.kind = kindName(lang, call.kinds, String(params.kind));
  if (item.key === 'rule.maxTotalRequest' || item.key === 'rule.maxPerPartner') {
    params.required = formatYuan(Number(params.required));
    params.actual = formatYuan(Number(params.actual));
  }
  if (item.key === 'rule.leadType') {
    params.allowed = String(params.allowed ?? '')
      .split(',')
      .filter(Boolean)
      .map((x) => t(`people:types.${x}`))
      .join(lang === 'en' ? ', ' : '、');
  }
  const key =
    item.key === 'rule.leadType' && !params.allowed ? 'rule.leadTypeAny' : item.key === 'confirmations' && item.ok ? 'confirmationsDone' : item.key;
  return String(t(`proposals:checklist.${key}`, params));
}

/** Rules the call does not set (no limit, no ratio) are always met: they are left out of the list. */
function applies(call: CallSettings, item: ChecklistItem): boolean {
  if (item.key === 'rule.maxTotalRequest') return call.rules.maxTotalRequestFen !== null;
  if (item.key === 'rule.maxPerPartner') return call.rules.maxPerPartnerFen !== null;
  if (item.key === 'rule.enterpriseSelfFunding') return call.rules.minEnterpriseSelfFundingPct > 0;
  // With any lead type allowed, the rule says no more than the 'lead chosen' item already does.
  if (item.key === 'rule.leadType') return call.rules.leadInstitutionTypes.length > 0;
  return true;
}

export function checklistView(lang: string, proposalId: number, call: CallSettings, items: ChecklistItem[]) {
  return items.filter((i) => !i.ok || applies(call, i)).map((i) => ({ ok: i.ok, message: checklistMessage(lang, call, i), href: stepHref(proposalId, i.step), step: i.step }));
}

export function callView(lang: string, call: CallSettings) {
  const state = windowOf(call);
  return { id: call.id, title: bi(lang, call.titleZh, call.titleEn), deadlineAt: call.deadlineAt, open: state === 'open', state };
}

export function proposalHeader(b: ProposalBundle) {
  const p = b.proposal;
  return { id: p.id, title: p.title, titleEn: p.titleEn, status: p.status, isDraft: p.status === 'draft', receiptNo: p.receiptNo, submittedAt: p.submittedAt, version: p.version, returnReason: p.status === 'draft' ? p.returnReason : null, screeningReason: p.status === 'ineligible' ? p.screeningReason : null };
}

/** The frame every editor step shares: step indicator with completion, compact checklist, read-only state. */
export function editorFrame(lang: string, b: ProposalBundle, call: CallSettings, ev: Evaluation, step: EditorStep) {
  const proposal = proposalHeader(b);
  const callV = callView(lang, call);
  const steps = EDITOR_STEPS.map((code, i) => {
    const missing = ev.failures.filter((f) => f.step === code).length;
    return { code, n: i + 1, href: stepHref(proposal.id, code), label: `proposals:steps.${code}`, current: code === step, missing, complete: code === 'submit' ? !proposal.isDraft : missing === 0 };
  });
  return {
    title: `proposals:steps.${step}`,
    step,
    proposal,
    call: callV,
    steps,
    checklist: checklistView(lang, proposal.id, call, ev.items),
    failures: checklistView(lang, proposal.id, call, ev.failures),
    failureCount: ev.failures.length,
    editable: proposal.isDraft && callV.open,
  };
}

export function partnersView(lang: string, b: ProposalBundle, contacts: Map<number, { name: string; email: string }>) {
  return b.partners.map((p) => ({
    id: p.id,
    name: bi(lang, p.institutionName, p.institutionNameEn),
    type: p.institutionType,
    provinceCode: p.provinceCode,
    isLead: p.isLead,
    role: p.role,
    contact: p.contactUserId ? (contacts.get(p.contactUserId) ?? null) : null,
    requested: formatYuan(p.requestedFen),
    selfFunded: formatYuan(p.selfFundedFen),
    confirmed: p.confirmedAt !== null,
    confirmedAt: p.confirmedAt,
  }));
}

export function totalsView(lang: string, b: ProposalBundle, call: CallSettings, totals: BudgetTotals) {
  const years = budgetYears(b.proposal.durationMonths, b.lines);
  return {
    total: formatYuan(totals.total),
    selfFundedTotal: formatYuan(b.partners.reduce((a, p) => a + p.selfFundedFen, 0)),
    byPartner: b.partners.map((p) => ({ name: bi(lang, p.institutionName, p.institutionNameEn), provinceCode: p.provinceCode, requested: formatYuan(totals.byPartner.get(p.id) ?? 0), selfFunded: formatYuan(p.selfFundedFen) })),
    byYear: Array.from({ length: years }, (_, i) => ({ year: i + 1, amount: formatYuan(totals.byYear.get(i + 1) ?? 0) })),
    byProvince: [...new Set(b.partners.map((p) => p.provinceCode))].map((code) => ({ code, amount: formatYuan(totals.byProvince.get(code) ?? 0) })),
    byCategory: call.categories.map((c) => ({ name: bi(lang, c.nameZh, c.nameEn), amount: formatYuan(totals.byCategory.get(c.code) ?? 0) })),
  };
}

/** The budget grid of one partner (categories × years), from the saved lines or from what was typed. */
export function budgetGrid(lang: string, b: ProposalBundle, call: CallSettings, partnerId: number, action: string, typed?: { values: Record<string, string>; errors: FieldErrors }) {
  const partner = b.partners.find((p) => p.id === partnerId)!;
  const lines = b.lines.filter((l) => l.partnerId === partnerId);
  const years = budgetYears(b.proposal.durationMonths, b.lines);
  const t = tFor(lang);
  const amount = (y: number, c: string) => lines.find((l) => l.year === y && l.category === c)?.amountFen ?? 0;
  const yearLabels = Array.from({ length: years }, (_, i) => String(t('proposals:budget.year', { n: i + 1 })));
  const rows = call.categories.map((c) => {
    const name = bi(lang, c.nameZh, c.nameEn);
    const cells = yearLabels.map((label, i) => {
      const field = cellName(i + 1, c.code);
      const saved = amount(i + 1, c.code);
      return { field, id: `b${partnerId}-${i + 1}-${c.code}`, label: `${label} ${name}`, value: typed ? (typed.values[field] ?? '') : saved ? formatYuan(saved) : '', error: typed?.errors[field] };
    });
    return { code: c.code, name, cells, total: formatYuan(yearLabels.reduce((a, _l, i) => a + amount(i + 1, c.code), 0)) };
  });
  return {
    partnerId,
    action,
    name: bi(lang, partner.institutionName, partner.institutionNameEn),
    provinceCode: partner.provinceCode,
    isLead: partner.isLead,
    confirmed: partner.confirmedAt !== null,
    years: yearLabels,
    rows,
    yearTotals: yearLabels.map((_l, i) => formatYuan(lines.filter((l) => l.year === i + 1).reduce((a, l) => a + l.amountFen, 0))),
    total: formatYuan(lines.reduce((a, l) => a + l.amountFen, 0)),
    selfFunded: { value: typed ? (typed.values.selfFunded ?? '') : formatYuan(partner.selfFundedFen), error: typed?.errors.selfFunded },
    hasErrors: !!typed && Object.keys(typed.errors).length > 0,
  };
}

export function attachmentsView(lang: string, b: ProposalBundle, call: CallSettings) {
  return b.attachments.map((a) => ({
    id: a.id,
    kind: kindName(lang, call.kinds, a.kind),
    originalName: a.originalName,
    size: formatBytes(a.sizeBytes),
    sha256: a.sha256,
    createdAt: a.createdAt,
    href: `/proposals/${b.proposal.id}/attachments/${a.id}`,
  }));
}

export function kindsView(lang: string, call: CallSettings, b: ProposalBundle, selected?: string) {
  return call.kinds.map((k) => ({
    code: k.code,
    name: bi(lang, k.nameZh, k.nameEn),
    required: k.required,
    types: k.types.map((x) => x.toUpperCase()).join(' / '),
    maxSize: formatBytes(k.maxBytes),
    count: b.attachments.filter((a) => a.kind === k.code).length,
    selected: k.code === selected,
  }));
}

export function exclusionsForm(b: ProposalBundle, typed?: Record<string, string>) {
  return EXCLUSION_SLOTS.map((i) => {
    const e = b.exclusions[i - 1];
    return {
      i,
      name: typed ? (typed[`name${i}`] ?? '') : (e?.expertName ?? ''),
      institution: typed ? (typed[`institution${i}`] ?? '') : (e?.expertInstitution ?? ''),
      reason: typed ? (typed[`reason${i}`] ?? '') : (e?.reason ?? ''),
    };
  });
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  return `${(n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}

export function topicsView(lang: string, call: CallSettings, selected: number | string | null) {
  return call.topics.map((x) => ({ id: x.id, label: `${x.code} ${bi(lang, x.titleZh, x.titleEn)}`, selected: String(x.id) === String(selected ?? '') }));
}
