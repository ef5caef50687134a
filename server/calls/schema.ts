/**
 * Input schemas of the calls area (zod). Messages are i18n keys shown next to the field. Money is typed in 元
 * and becomes integer fen here; datetime-local values are Asia/Shanghai wall time and become instants here.
 * Only the fields listed are read: status, committed amounts, creators and ids in a body are dropped.
 */
import { z } from 'zod';
import { INSTITUTION_TYPES, type InstitutionType } from '../people/rules.js';
import { parseYuan } from '../proposals/rules.js';
import { parseShanghaiLocal } from '../platform/time.js';
import {
  CALL_STATUSES,
  DEFAULT_ATTACHMENT_KINDS,
  DEFAULT_BUDGET_CATEGORIES,
  DEFAULT_RULES,
  FILE_TYPES,
  FUNDING_MODES,
  type AttachmentKind,
  type BudgetCategory,
  type EligibilityRules,
  type FileType,
} from './rules.js';

const E = 'calls:errors.';

const required = (max: number, key: string) => z.string({ message: key }).trim().min(1, key).max(max, 'common:form.tooLong');
const optionalText = (max: number) =>
  z
    .string({ message: 'common:form.invalid' })
    .trim()
    .max(max, 'common:form.tooLong')
    .optional()
    .transform((v) => (v ? v : null));

/** A whole number typed in a field (blank counts as missing). */
const int = (min: number, max: number, key: string) =>
  z
    .string({ message: key })
    .trim()
    .regex(/^\d{1,6}$/, key)
    .transform(Number)
    .refine((n) => n >= min && n <= max, key);

/** datetime-local in Asia/Shanghai → Date, blank → null. */
const localDate = z
  .string({ message: `${E}dateTime` })
  .trim()
  .max(25, `${E}dateTime`)
  .optional()
  .transform((v, c) => {
    if (!v) return null;
    const d = parseShanghaiLocal(v);
    if (!d) {
      c.addIssue({ code: 'custom', message: `${E}dateTime` });
      return z.NEVER;
    }
    return d;
  });

/** 元 → fen; blank → null ("no limit"). */
const optionalYuan = z
  .string({ message: `${E}money` })
  .trim()
  .max(30, `${E}money`)
  .optional()
  .transform((v, c) => {
    if (!v) return null;
    const fen = parseYuan(v);
    if (fen === null) {
      c.addIssue({ code: 'custom', message: `${E}money` });
      return z.NEVER;
    }
    return fen;
  });

const requiredYuan = optionalYuan.transform((v, c) => {
  if (v === null) {
    c.addIssue({ code: 'custom', message: `${E}money` });
    return z.NEVER;
  }
  return v;
});

/** A checkbox: present ("1", "on") means yes. */
const checkbox = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((v) => v !== undefined && v !== '' && v !== '0');

/** Repeated checkboxes of one name: a string or a list of strings, each from `allowed`. */
function checkList<T extends string>(allowed: readonly T[]) {
  return z
    .union([z.string(), z.array(z.string()).max(allowed.length * 2)], { message: 'common:form.invalid' })
    .optional()
    .transform((v, c) => {
      const list = v === undefined ? [] : Array.isArray(v) ? v : [v];
      const out: T[] = [];
      for (const x of list) {
        if (x === '') continue;
        if (!(allowed as readonly string[]).includes(x)) {
          c.addIssue({ code: 'custom', message: 'common:form.invalid' });
          return z.NEVER;
        }
        if (!out.includes(x as T)) out.push(x as T);
      }
      return out;
    });
}

/** The checked values of a repeated checkbox as sent (for re-showing a form), restricted to `allowed`. */
export function checkedOf(raw: unknown, allowed: readonly string[]): string[] {
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.filter((x): x is string => typeof x === 'string' && allowed.includes(x));
}

const code = (key: string) => z.string({ message: key }).trim().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/, key);

// ---- main settings -------------------------------------------------------------------------------

export const callSettingsSchema = z
  .object({
    programmeId: z
      .string()
      .trim()
      .regex(/^\d{0,9}$/, 'common:form.invalid')
      .optional()
      .transform((v) => (v ? Number(v) : null)),
    programmeName: optionalText(191),
    programmeNameEn: optionalText(255),
    titleZh: required(255, `${E}titleZh`),
    titleEn: optionalText(255),
    bodyZh: required(20000, `${E}bodyZh`),
    bodyEn: optionalText(20000),
    opensAt: localDate,
    deadlineAt: localDate,
    endorsementRequired: checkbox,
    endorsementDeadlineAt: localDate,
    reviewDueAt: localDate,
    decisionAt: localDate,
    fundingMode: z.enum(FUNDING_MODES, { message: `${E}fundingMode` }),
    balancingPotYuan: optionalYuan,
    reviewersPerProposal: int(3, 5, `${E}reviewers`),
    noExpertFromLeadProvince: checkbox,
    minProvinces: int(1, 50, `${E}minProvinces`),
    minPartners: int(1, 100, `${E}minPartners`),
    maxPartners: int(1, 100, `${E}maxPartners`),
    maxTotalRequestYuan: optionalYuan,
    maxPerPartnerYuan: optionalYuan,
    minDurationMonths: int(1, 240, `${E}duration`),
    maxDurationMonths: int(1, 240, `${E}duration`),
    leadInstitutionTypes: checkList(INSTITUTION_TYPES),
    minEnterpriseSelfFundingPct: int(0, 1000, `${E}selfFunding`),
    maxActivePerPi: int(1, 20, `${E}piLimit`),
  })
  .superRefine((v, c) => {
    const issue = (path: string, key: string) => c.addIssue({ code: 'custom', path: [path], message: `${E}${key}` });
    if (!v.programmeId && !v.programmeName) issue('programmeId', 'programme');
    if (v.maxPartners < v.minPartners) issue('maxPartners', 'maxPartnersBelowMin');
    if (v.maxDurationMonths < v.minDurationMonths) issue('maxDurationMonths', 'durationOrder');
    if (v.maxPerPartnerYuan !== null && v.maxTotalRequestYuan !== null && v.maxPerPartnerYuan > v.maxTotalRequestYuan) issue('maxPerPartnerYuan', 'perPartnerAboveTotal');
    if (v.fundingMode === 'mixed' && !v.balancingPotYuan) issue('balancingPotYuan', 'balancingPotRequired');
    if (v.endorsementRequired && !v.endorsementDeadlineAt) issue('endorsementDeadlineAt', 'endorsementDeadlineRequired');
    if (v.opensAt && v.deadlineAt && v.opensAt >= v.deadlineAt) issue('deadlineAt', 'deadlineBeforeOpen');
    const after = (field: 'endorsementDeadlineAt' | 'reviewDueAt' | 'decisionAt', earlier: Date | null) => {
      const d = v[field];
      if (d && earlier && d < earlier) issue(field, `${field}Order`);
    };
    after('endorsementDeadlineAt', v.deadlineAt);
    after('reviewDueAt', v.endorsementRequired ? (v.endorsementDeadlineAt ?? v.deadlineAt) : v.deadlineAt);
    after('decisionAt', v.reviewDueAt ?? v.deadlineAt);
  })
  .transform((v) => ({
    programmeId: v.programmeId,
    programmeName: v.programmeName,
    programmeNameEn: v.programmeNameEn,
    titleZh: v.titleZh,
    titleEn: v.titleEn,
    bodyZh: v.bodyZh,
    bodyEn: v.bodyEn,
    opensAt: v.opensAt,
    deadlineAt: v.deadlineAt,
    endorsementRequired: v.endorsementRequired,
    endorsementDeadlineAt: v.endorsementRequired ? v.endorsementDeadlineAt : null,
    reviewDueAt: v.reviewDueAt,
    decisionAt: v.decisionAt,
    fundingMode: v.fundingMode,
    balancingPotFen: v.fundingMode === 'mixed' ? (v.balancingPotYuan ?? 0) : 0,
    reviewersPerProposal: v.reviewersPerProposal,
    noExpertFromLeadProvince: v.noExpertFromLeadProvince,
    rules: {
      minProvinces: v.minProvinces,
      minPartners: v.minPartners,
      maxPartners: v.maxPartners,
      maxTotalRequestFen: v.maxTotalRequestYuan,
      maxPerPartnerFen: v.maxPerPartnerYuan,
      minDurationMonths: v.minDurationMonths,
      maxDurationMonths: v.maxDurationMonths,
      leadInstitutionTypes: v.leadInstitutionTypes,
      minEnterpriseSelfFundingPct: v.minEnterpriseSelfFundingPct,
      maxActivePerPi: v.maxActivePerPi,
    } satisfies EligibilityRules,
  }));

export type CallSettings = z.output<typeof callSettingsSchema>;

// ---- rows: topics, criteria, budget categories, attachment kinds ---------------------------------

export const topicSchema = z
  .object({
    topicCode: code(`${E}code`),
    topicTitleZh: required(255, `${E}topicTitleZh`),
    topicTitleEn: optionalText(255),
    topicDescription: optionalText(5000),
  })
  .transform((v) => ({ code: v.topicCode, titleZh: v.topicTitleZh, titleEn: v.topicTitleEn, description: v.topicDescription }));
export type TopicInput = z.output<typeof topicSchema>;

export const criterionSchema = z
  .object({
    criterionNameZh: required(191, `${E}criterionName`),
    criterionNameEn: optionalText(191),
    criterionWeight: int(1, 100, `${E}weight`),
    criterionScale: int(2, 100, `${E}scale`),
  })
  .transform((v) => ({ nameZh: v.criterionNameZh, nameEn: v.criterionNameEn, weight: v.criterionWeight, scaleMax: v.criterionScale }));
export type CriterionInput = z.output<typeof criterionSchema>;

export const categorySchema = z
  .object({
    categoryCode: code(`${E}code`),
    categoryNameZh: required(100, `${E}nameZh`),
    categoryNameEn: required(100, `${E}nameEn`),
  })
  .transform((v): BudgetCategory => ({ code: v.categoryCode, nameZh: v.categoryNameZh, nameEn: v.categoryNameEn }));

export const kindSchema = z
  .object({
    kindCode: code(`${E}code`),
    kindNameZh: required(100, `${E}nameZh`),
    kindNameEn: required(100, `${E}nameEn`),
    kindRequired: checkbox,
    kindTypes: checkList(FILE_TYPES).refine((l) => l.length > 0, `${E}fileTypes`),
    kindMaxMb: int(1, 100, `${E}maxMb`),
  })
  .transform((v): AttachmentKind => ({ code: v.kindCode, nameZh: v.kindNameZh, nameEn: v.kindNameEn, required: v.kindRequired, types: v.kindTypes, maxBytes: v.kindMaxMb * 1024 * 1024 }));

// ---- pledges, lifecycle, deadline, list ----------------------------------------------------------

/** Only the amount is read; committed amounts, provinces or ids in the body are ignored. */
export const pledgeSchema = z.object({ amountYuan: requiredYuan });

export const transitionSchema = z.object({ to: z.enum(CALL_STATUSES, { message: 'common:form.invalid' }) });

export const extendDeadlineSchema = z.object({ newDeadlineAt: localDate, newEndorsementDeadlineAt: localDate }).superRefine((v, c) => {
  if (!v.newDeadlineAt) c.addIssue({ code: 'custom', path: ['newDeadlineAt'], message: `${E}dateTime` });
});

export const subscriptionSchema = z.object({ subscribe: z.enum(['1', '0'], { message: 'common:form.invalid' }) });

export const listQuerySchema = z.object({ mine: z.enum(['1', '']).optional().default('') });

/** A positive id in a URL; anything else is a 404. */
export function idParam(raw: unknown): number | null {
  return typeof raw === 'string' && /^[1-9]\d{0,9}$/.test(raw) && Number(raw) <= 2147483647 ? Number(raw) : null;
}

// ---- the JSON documents of a call, read back defensively ----------------------------------------

const storedRules = z.object({
  minProvinces: z.number().int(),
  minPartners: z.number().int(),
  maxPartners: z.number().int(),
  maxTotalRequestFen: z.number().int().nullable(),
  maxPerPartnerFen: z.number().int().nullable(),
  minDurationMonths: z.number().int(),
  maxDurationMonths: z.number().int(),
  leadInstitutionTypes: z.array(z.enum(INSTITUTION_TYPES)),
  minEnterpriseSelfFundingPct: z.number().int(),
  maxActivePerPi: z.number().int(),
});

function parseJson(json: string | null | undefined): unknown {
  try {
    return json ? JSON.parse(json) : undefined;
  } catch {
    return undefined;
  }
}

/** A call's eligibility rules; missing or malformed values fall back to DEFAULT_RULES one by one. */
export function readRules(json: string | null | undefined): EligibilityRules {
  const raw = parseJson(json);
  const out: EligibilityRules = { ...DEFAULT_RULES, leadInstitutionTypes: [...DEFAULT_RULES.leadInstitutionTypes] };
  if (!raw || typeof raw !== 'object') return out;
  for (const [k, schema] of Object.entries(storedRules.shape)) {
    const r = (schema as z.ZodType).safeParse((raw as Record<string, unknown>)[k]);
    if (r.success) (out as unknown as Record<string, unknown>)[k] = r.data;
  }
  return out;
}

const storedCategories = z.array(z.object({ code: z.string(), nameZh: z.string(), nameEn: z.string() }));
const storedKinds = z.array(
  z.object({ code: z.string(), nameZh: z.string(), nameEn: z.string(), required: z.boolean(), types: z.array(z.enum(FILE_TYPES)), maxBytes: z.number().int().positive() }),
);

export function readBudgetCategories(json: string | null | undefined): BudgetCategory[] {
  const r = storedCategories.safeParse(parseJson(json));
  return r.success ? r.data : DEFAULT_BUDGET_CATEGORIES.map((c) => ({ ...c }));
}

export function readAttachmentKinds(json: string | null | undefined): AttachmentKind[] {
  const r = storedKinds.safeParse(parseJson(json));
  return r.success ? r.data.map((k) => ({ ...k, types: k.types as FileType[] })) : DEFAULT_ATTACHMENT_KINDS.map((k) => ({ ...k, types: [...k.types] }));
}

export type { InstitutionType };
