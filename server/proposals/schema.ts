/** Input schemas of the proposal editor. Messages are i18n keys shown next to the field. */
import { z } from 'zod';
import type { BudgetCategory } from '../calls/rules.js';
import { echo, type FieldErrors } from '../platform/forms.js';
import { parseYuan } from './rules.js';

const optText = (max: number) =>
  z
    .string({ message: 'common:form.invalid' })
    .trim()
    .max(max, 'common:form.tooLong')
    .optional()
    .transform((v) => (v ? v : null));

const optionalId = z
  .union([z.literal(''), z.coerce.number().int().positive()], { message: 'common:form.invalid' })
  .optional()
  .transform((v) => (v === '' || v === undefined ? null : v));

export const basicSchema = z.object({
  title: z.string({ message: 'common:form.invalid' }).trim().max(255, 'common:form.tooLong').default(''),
  titleEn: optText(255),
  topicId: optionalId,
  abstract: optText(5000),
  keywords: optText(500),
  disciplineCode: z
    .string({ message: 'common:form.invalid' })
    .trim()
    .max(32, 'common:form.tooLong')
    .regex(/^[A-Za-z0-9.-]*$/, 'proposals:basic.errors.discipline')
    .optional()
    .transform((v) => (v ? v : null)),
  durationMonths: z
    .union([z.literal(''), z.coerce.number({ message: 'proposals:basic.errors.duration' }).int('proposals:basic.errors.duration').min(1, 'proposals:basic.errors.duration').max(120, 'proposals:basic.errors.duration')], {
      message: 'proposals:basic.errors.duration',
    })
    .optional()
    .transform((v) => (v === '' || v === undefined ? null : v)),
});
export type BasicInput = z.infer<typeof basicSchema>;

export const leadSchema = z.object({
  leadInstitutionId: z.coerce.number({ message: 'proposals:consortium.errors.institution' }).int('proposals:consortium.errors.institution').positive('proposals:consortium.errors.institution'),
});

export const partnerSchema = z.object({
  institutionId: z.coerce.number({ message: 'proposals:consortium.errors.institution' }).int('proposals:consortium.errors.institution').positive('proposals:consortium.errors.institution'),
  contactEmail: z.string({ message: 'proposals:consortium.errors.email' }).trim().max(254, 'proposals:consortium.errors.email').email('proposals:consortium.errors.email'),
  role: optText(500),
});
export type PartnerInput = z.infer<typeof partnerSchema>;

export const MAX_EXCLUSIONS = 3;
export const EXCLUSION_SLOTS = [1, 2, 3] as const;

const exclusionFields = Object.fromEntries(EXCLUSION_SLOTS.flatMap((i) => [[`name${i}`, optText(100)], [`institution${i}`, optText(191)], [`reason${i}`, optText(500)]])) as Record<string, ReturnType<typeof optText>>;

/** Up to three experts the applicant asks not to be reviewed by; a name needs a reason and a reason a name. */
export const exclusionsSchema = z
  .object(exclusionFields)
  .superRefine((v, c) => {
    for (const i of EXCLUSION_SLOTS) {
      const name = v[`name${i}`];
      const reason = v[`reason${i}`];
      const inst = v[`institution${i}`];
      if (name && !reason) c.addIssue({ code: 'custom', path: [`reason${i}`], message: 'proposals:exclusions.errors.reason' });
      if (!name && (reason || inst)) c.addIssue({ code: 'custom', path: [`name${i}`], message: 'proposals:exclusions.errors.name' });
    }
  })
  .transform((v) =>
    EXCLUSION_SLOTS.filter((i) => v[`name${i}`]).map((i) => ({ expertName: v[`name${i}`]!, expertInstitution: v[`institution${i}`] ?? null, reason: v[`reason${i}`]! })),
  );

export const submitSchema = z.object({
  idempotencyKey: z.string({ message: 'proposals:submit.errors.key' }).regex(/^[A-Za-z0-9_-]{16,64}$/, 'proposals:submit.errors.key'),
});

export const attachmentFieldsSchema = z.object({
  kind: z.string({ message: 'proposals:attachments.errors.kind' }).trim().min(1, 'proposals:attachments.errors.kind').max(32, 'proposals:attachments.errors.kind'),
});

/** Budget cell field names: a.<year>.<category>. */
export const cellName = (year: number, category: string) => `a.${year}.${category}`;

export interface BudgetForm {
  lines: Array<{ year: number; category: string; amountFen: number }>;
  selfFundedFen: number;
}

/**
 * The budget grid of one partner: amounts typed in 元 per year and category (empty = 0), and the self-funded
 * amount. Unknown fields are ignored; a bad amount is an error on its own cell, with everything typed kept.
 */
export function parseBudgetForm(body: unknown, categories: BudgetCategory[], years: number): { ok: true; data: BudgetForm } | { ok: false; errors: FieldErrors; values: Record<string, string> } {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const errors: FieldErrors = {};
  const lines: BudgetForm['lines'] = [];
  for (let year = 1; year <= years; year++) {
    for (const c of categories) {
      const name = cellName(year, c.code);
      const raw = b[name];
      if (raw === undefined || raw === '') continue;
      const fen = typeof raw === 'string' ? (raw.trim() === '' ? 0 : parseYuan(raw)) : null;
      if (fen === null) errors[name] = 'proposals:budget.errors.amount';
      else if (fen > 0) lines.push({ year, category: c.code, amountFen: fen });
    }
  }
  const rawSelf = b.selfFunded;
  let selfFundedFen = 0;
  if (rawSelf !== undefined && rawSelf !== '') {
    const v = typeof rawSelf === 'string' ? (rawSelf.trim() === '' ? 0 : parseYuan(rawSelf)) : null;
    if (v === null) errors.selfFunded = 'proposals:budget.errors.amount';
    else selfFundedFen = v;
  }
  if (Object.keys(errors).length) return { ok: false, errors, values: echo(body) };
  return { ok: true, data: { lines, selfFundedFen } };
}
