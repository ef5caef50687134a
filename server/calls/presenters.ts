/**
 * Reads and view models of calls: plain objects for the views (never model instances), strings shaped for
 * the page's language, money in 元, dates as instants the views show with {{dateTime}} (Asia/Shanghai).
 */
import { Op, type InferAttributes } from 'sequelize';
import { tFor } from '../platform/i18n.js';
import { managesCalls, canSeeCall } from './policy.js';
import { hasRole, officerProvinces, type Actor } from '../platform/policy.js';
import { timeLeft } from '../platform/time.js';
import { Province } from '../people/models.js';
import { formatYuan } from '../proposals/rules.js';
import { Call, CallCriterion, CallPledge, CallTopic, Programme } from './models.js';
import { submissionWindow, type CallStatus, type EligibilityRules, type FundingMode } from './rules.js';
import { readAttachmentKinds, readBudgetCategories, readRules } from './schema.js';

const pick = (lang: string, zh: string | null | undefined, en: string | null | undefined) => (lang === 'en' && en ? en : (zh ?? ''));

/** Plain text → paragraphs (split on blank lines), each a list of lines; the view escapes and joins with <br>. */
export function paragraphs(text: string | null | undefined): Array<{ lines: string[] }> {
  return (text ?? '')
    .replace(/\r\n?/g, '\n')
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => ({ lines: p.split('\n') }));
}

/** Integer fen for an input field ("12345.60"), blank for null. */
export function fenToInput(fen: number | null | undefined): string {
  if (fen === null || fen === undefined) return '';
  return `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
}

/** "还剩 3 天 4 小时" / "尚未开放…" / "已截止" for a call at `now`. */
export function countdownText(c: { status: CallStatus; opensAt: Date | null; deadlineAt: Date | null }, now: Date, lang: string): string {
  const t = tFor(lang);
  const state = submissionWindow(c, now);
  if (state === 'notPublished') return t('calls:countdown.draft');
  if (state === 'closed') return t('calls:countdown.closed');
  const target = state === 'notOpenYet' ? c.opensAt! : c.deadlineAt!;
  const left = timeLeft(target, now);
  const key = state === 'notOpenYet' ? 'calls:countdown.opensIn' : 'calls:countdown.left';
  const span = left.days > 0 ? t('calls:countdown.daysHours', { days: left.days, hours: left.hours }) : left.totalMs >= 3600_000 ? t('calls:countdown.hoursMinutes', { hours: left.hours, minutes: left.minutes }) : t('calls:countdown.minutes', { minutes: Math.max(1, left.minutes) });
  return t(key, { span });
}

function ratioOf(pct: number): string {
  const r = pct / 100;
  return `${Number.isInteger(r) ? r : r.toFixed(2).replace(/0+$/, '')}:1`;
}

/** The eligibility rules of a call in words, in the page's language. */
export function rulesInWords(r: EligibilityRules, lang: string, endorsement: { required: boolean }): string[] {
  const t = tFor(lang);
  const lines = [
    t('calls:rules.minProvinces', { n: r.minProvinces }),
    t('calls:rules.partners', { min: r.minPartners, max: r.maxPartners }),
    r.maxTotalRequestFen === null ? t('calls:rules.maxTotalNone') : t('calls:rules.maxTotal', { amount: formatYuan(r.maxTotalRequestFen) }),
    r.maxPerPartnerFen === null ? t('calls:rules.maxPerPartnerNone') : t('calls:rules.maxPerPartner', { amount: formatYuan(r.maxPerPartnerFen) }),
    t('calls:rules.duration', { min: r.minDurationMonths, max: r.maxDurationMonths }),
    r.leadInstitutionTypes.length === 0
      ? t('calls:rules.leadAny')
      : t('calls:rules.leadTypes', { types: r.leadInstitutionTypes.map((x) => t(`people:types.${x}`)).join(lang === 'en' ? ', ' : '、') }),
    r.minEnterpriseSelfFundingPct === 0 ? t('calls:rules.selfFundingNone') : t('calls:rules.selfFunding', { pct: r.minEnterpriseSelfFundingPct, ratio: ratioOf(r.minEnterpriseSelfFundingPct) }),
    t('calls:rules.piLimit', { n: r.maxActivePerPi }),
  ];
  if (endorsement.required) lines.push(t('calls:rules.endorsement'));
  return lines;
}

export interface CallData {
  call: InferAttributes<Call>;
  programme: { id: number; nameZh: string; nameEn: string | null } | null;
  topics: Array<{ id: number; code: string; titleZh: string; titleEn: string | null; description: string | null }>;
  criteria: Array<{ id: number; nameZh: string; nameEn: string | null; weight: number; scaleMax: number }>;
  pledges: Array<{ provinceCode: string; amountFen: number; committedFen: number }>;
  provinces: Array<{ code: string; nameZh: string; nameEn: string }>;
}

/** Everything a call page shows, in five small queries; null when the call does not exist. */
export async function loadCall(id: number): Promise<CallData | null> {
  const call = await Call.findByPk(id);
  if (!call) return null;
  const [programme, topics, criteria, pledges, provinces] = await Promise.all([
    Programme.findByPk(call.programmeId, { attributes: ['id', 'nameZh', 'nameEn'], raw: true }),
    CallTopic.findAll({ where: { callId: id }, order: [['sortOrder', 'ASC'], ['id', 'ASC']], attributes: ['id', 'code', 'titleZh', 'titleEn', 'description'], raw: true }),
    CallCriterion.findAll({ where: { callId: id }, order: [['sortOrder', 'ASC'], ['id', 'ASC']], attributes: ['id', 'nameZh', 'nameEn', 'weight', 'scaleMax'], raw: true }),
    CallPledge.findAll({ where: { callId: id } }),
    Province.findAll({ order: [['sortOrder', 'ASC'], ['code', 'ASC']], attributes: ['code', 'nameZh', 'nameEn'], raw: true }),
  ]);
  return {
    call: call.get({ plain: true }) as InferAttributes<Call>,
    programme,
    topics,
    criteria,
    pledges: pledges.map((p) => ({ provinceCode: p.provinceCode, amountFen: p.amountFen, committedFen: p.committedFen })),
    provinces,
  };
}

/** The pledge table: every province, its amount (blank when none), the actor's own rows editable. */
export function pledgeRows(d: CallData, actor: Actor | null, lang: string) {
  const mine = new Set(officerProvinces(actor));
  const byCode = new Map(d.pledges.map((p) => [p.provinceCode, p]));
  const rows = d.provinces.map((p) => {
    const pl = byCode.get(p.code);
    return {
      code: p.code,
      name: pick(lang, p.nameZh, p.nameEn),
      amount: pl ? formatYuan(pl.amountFen) : '',
      committed: pl && pl.committedFen > 0 ? formatYuan(pl.committedFen) : '',
      input: fenToInput(pl?.amountFen ?? null),
      editable: mine.has(p.code) && d.call.status !== 'archived',
    };
  });
  const total = d.pledges.reduce((a, p) => a + p.amountFen, 0);
  return { rows, total: formatYuan(total), balancingPot: d.call.fundingMode === 'mixed' ? formatYuan(d.call.balancingPotFen) : '' };
}

function datesOf(c: CallData['call']) {
  return { opensAt: c.opensAt, deadlineAt: c.deadlineAt, endorsementDeadlineAt: c.endorsementRequired ? c.endorsementDeadlineAt : null, reviewDueAt: c.reviewDueAt, decisionAt: c.decisionAt, publishedAt: c.publishedAt };
}

/** The public call page. */
export function callPageView(d: CallData, actor: Actor | null, lang: string, now: Date) {
  const c = d.call;
  const rules = readRules(c.rulesJson);
  const window = submissionWindow(c, now);
  const t = tFor(lang);
  const callOfficer = officerProvinces(actor).some((p) => d.pledges.some((x) => x.provinceCode === p));
  return {
    id: c.id,
    title: pick(lang, c.titleZh, c.titleEn),
    otherTitle: lang === 'en' ? (c.titleEn ? c.titleZh : '') : (c.titleEn ?? ''),
    programme: d.programme ? pick(lang, d.programme.nameZh, d.programme.nameEn) : '',
    status: c.status,
    body: paragraphs(pick(lang, c.bodyZh, c.bodyEn)),
    dates: datesOf(c),
    countdown: countdownText(c, now, lang),
    windowOpen: window === 'open',
    topics: d.topics.map((x) => ({ code: x.code, title: pick(lang, x.titleZh, x.titleEn), description: paragraphs(x.description) })),
    rules: rulesInWords(rules, lang, { required: !!c.endorsementRequired }),
    fundingMode: c.fundingMode as FundingMode,
    pledges: pledgeRows(d, null, lang),
    criteria: d.criteria.map((x) => ({ name: pick(lang, x.nameZh, x.nameEn), weight: x.weight, scaleMax: x.scaleMax })),
    attachments: readAttachmentKinds(c.attachmentKindsJson).map((k) => ({ name: pick(lang, k.nameZh, k.nameEn), required: k.required, types: k.types.map((x) => x.toUpperCase()).join(', '), maxMb: Math.round(k.maxBytes / 1048576) })),
    categories: readBudgetCategories(c.budgetCategoriesJson).map((x) => pick(lang, x.nameZh, x.nameEn)),
    reviewersPerProposal: c.reviewersPerProposal,
    signedIn: !!actor,
    manage: managesCalls(actor),
    // Officers of a province that pledged to the call organise its review once submissions are closed.
    assignment: (c.status === 'closed' || c.status === 'in_review') && callOfficer,
    // …and read its review results from then on, as do platform admins.
    reviewResults: c.status !== 'draft' && c.status !== 'published' && (callOfficer || hasRole(actor, 'admin')),
    loginNext: encodeURIComponent(`/calls/${c.id}`),
    pageTitle: t('calls:show.title'),
  };
}

export interface ListItem {
  id: number;
  title: string;
  programme: string;
  status: CallStatus;
  deadlineAt: Date | null;
  countdown: string;
  open: boolean;
}

const asDate = (d: Date | string | null): Date | null => (d === null || d === undefined ? null : d instanceof Date ? d : new Date(d));

const PUBLIC_STATUSES: CallStatus[] = ['published', 'closed', 'in_review', 'decided'];

/** The calls list: public calls (open ones first, soonest deadline first) and, for managers, drafts and their own. */
export async function callListView(actor: Actor | null, lang: string, now: Date, mine: boolean) {
  const manager = managesCalls(actor);
  const where = mine && manager ? { createdBy: actor!.id } : { status: { [Op.in]: PUBLIC_STATUSES } };
  const rows = await Call.findAll({ where, attributes: ['id', 'programmeId', 'titleZh', 'titleEn', 'status', 'opensAt', 'deadlineAt', 'createdBy'], order: [['id', 'DESC']], limit: 500, raw: true });
  const drafts = manager && !mine ? await Call.findAll({ where: { status: 'draft' }, attributes: ['id', 'programmeId', 'titleZh', 'titleEn', 'status', 'opensAt', 'deadlineAt', 'createdBy'], order: [['updatedAt', 'DESC']], limit: 200, raw: true }) : [];
  const programmeIds = [...new Set([...rows, ...drafts].map((r) => r.programmeId))];
  const programmes = new Map((await Programme.findAll({ where: { id: { [Op.in]: programmeIds } }, raw: true })).map((p) => [p.id, p]));
  const item = (raw: (typeof rows)[number]): ListItem => {
    // Raw rows: SQLite hands dates back as text.
    const r = { ...raw, opensAt: asDate(raw.opensAt), deadlineAt: asDate(raw.deadlineAt) };
    const p = programmes.get(r.programmeId);
    return {
      id: r.id,
      title: pick(lang, r.titleZh, r.titleEn),
      programme: p ? pick(lang, p.nameZh, p.nameEn) : '',
      status: r.status,
      deadlineAt: r.deadlineAt,
      countdown: countdownText(r, now, lang),
      open: submissionWindow(r, now) === 'open',
    };
  };
  const rank = (i: ListItem) => (i.open ? 0 : i.status === 'published' ? 1 : 2);
  const time = (d: Date | null) => (d ? new Date(d).getTime() : 0);
  const calls = rows
    .filter((r) => canSeeCall(actor, r.status).ok)
    .map(item)
    .sort((a, b) => rank(a) - rank(b) || (rank(a) === 0 ? time(a.deadlineAt) - time(b.deadlineAt) : time(b.deadlineAt) - time(a.deadlineAt)) || b.id - a.id);
  return { calls, drafts: drafts.map(item), manager, mine: mine && manager };
}
