/** Input schemas of the people area. Messages are i18n keys shown next to the field. */
import { z } from 'zod';
import { checkCreditCode, INSTITUTION_TYPES, MAX_ACCOUNT_EMAIL, ROLES } from './rules.js';
import { isValidAddress } from '../platform/mail/outbox.js';
import { LANGS } from '../platform/i18n.js';

const text = (max: number, key: string) => z.string({ message: key }).trim().min(1, key).max(max, 'common:form.tooLong');
/** An account's address: one the mail outbox will send to (local part ≤ 64, …), short enough for users.email. */
const email = z
  .string({ message: 'people:fields.email.invalid' })
  .trim()
  .max(MAX_ACCOUNT_EMAIL, 'people:fields.email.tooLong')
  .email('people:fields.email.invalid')
  .refine(isValidAddress, 'people:fields.email.invalid');
const optionalId = z
  .union([z.literal(''), z.coerce.number().int().positive()], { message: 'common:form.invalid' })
  .optional()
  .transform((v) => (v === '' || v === undefined ? null : v));

export const loginSchema = z.object({
  email: z.string({ message: 'people:fields.email.required' }).trim().min(1, 'people:fields.email.required').max(254, 'people:fields.email.invalid'),
  password: z.string({ message: 'people:fields.password.required' }).min(1, 'people:fields.password.required').max(200, 'people:password.tooLong'),
});

export const registerSchema = z
  .object({
    name: text(100, 'people:fields.name.required'),
    email,
    institutionId: optionalId,
    password: z.string({ message: 'people:password.tooShort' }).min(10, 'people:password.tooShort').max(200, 'people:password.tooLong'),
    confirmPassword: z.string({ message: 'people:password.mismatch' }),
  })
  .refine((v) => v.password === v.confirmPassword, { message: 'people:password.mismatch', path: ['confirmPassword'] })
  .refine((v) => v.password.toLowerCase() !== v.email.toLowerCase(), { message: 'people:password.sameAsEmail', path: ['password'] });

export const forgotSchema = z.object({ email });

export const resetSchema = z
  .object({
    password: z.string({ message: 'people:password.tooShort' }).min(10, 'people:password.tooShort').max(200, 'people:password.tooLong'),
    confirmPassword: z.string({ message: 'people:password.mismatch' }),
  })
  .refine((v) => v.password === v.confirmPassword, { message: 'people:password.mismatch', path: ['confirmPassword'] });

export const profileSchema = z.object({
  name: text(100, 'people:fields.name.required'),
  lang: z.enum(LANGS, { message: 'common:form.invalid' }),
  institutionId: optionalId,
});

export const passwordChangeSchema = z
  .object({
    currentPassword: z.string({ message: 'people:fields.password.required' }).min(1, 'people:fields.password.required'),
    newPassword: z.string({ message: 'people:password.tooShort' }).min(10, 'people:password.tooShort').max(200, 'people:password.tooLong'),
    confirmPassword: z.string({ message: 'people:password.mismatch' }),
  })
  .refine((v) => v.newPassword === v.confirmPassword, { message: 'people:password.mismatch', path: ['confirmPassword'] });

export const langSchema = z.object({ lang: z.enum(LANGS), next: z.string().max(500).optional() });

const creditCode = z
  .string({ message: 'people:institutions.errors.creditCode.length' })
  .superRefine((raw, c) => {
    const { problem } = checkCreditCode(raw);
    if (problem) c.addIssue({ code: 'custom', message: `people:institutions.errors.creditCode.${problem}` });
  })
  .transform((raw) => checkCreditCode(raw).code);

export const institutionSchema = z.object({
  nameZh: text(191, 'people:institutions.errors.nameZh'),
  nameEn: z.string().trim().max(255, 'common:form.tooLong').optional().transform((v) => (v ? v : null)),
  provinceCode: z.string({ message: 'people:institutions.errors.province' }).trim().min(1, 'people:institutions.errors.province').max(8, 'people:institutions.errors.province'),
  type: z.enum(INSTITUTION_TYPES, { message: 'people:institutions.errors.type' }),
  creditCode,
});

export const decisionSchema = z.object({
  decision: z.enum(['approve', 'reject'], { message: 'common:form.invalid' }),
  reason: z.string().trim().max(500, 'common:form.tooLong').optional().default(''),
});

export const grantSchema = z.object({
  role: z.enum(ROLES, { message: 'people:roles.errors.unknownRole' }),
  provinceCode: z.string().trim().max(8).optional().transform((v) => (v ? v : null)),
  institutionId: optionalId,
});

export const userSearchSchema = z.object({
  q: z.string().trim().max(100).optional().default(''),
  role: z.union([z.literal(''), z.enum(ROLES)]).optional().default(''),
  page: z.coerce.number().int().min(1).max(100000).optional().default(1),
});

// ---- institution registry and administration (lists, decisions) ----------------------------------

const pageParam = z.coerce.number().int().min(1).max(100000).optional().default(1);

/** /institutions?q=&province=&type=&page= */
export const institutionSearchSchema = z.object({
  q: z.string().trim().max(100).optional().default(''),
  province: z.string().trim().max(8).regex(/^[A-Za-z0-9]*$/).optional().default(''),
  type: z.union([z.literal(''), z.enum(INSTITUTION_TYPES)]).optional().default(''),
  page: pageParam,
});

/** /admin/institution-requests?status=&page= */
export const institutionRequestListSchema = z.object({
  status: z.enum(['', 'pending', 'approved', 'rejected']).optional().default(''),
  page: pageParam,
});

/** Deciding a request: a rejection must say why (the requester reads it in the mail). */
export const institutionDecisionSchema = decisionSchema.superRefine((v, c) => {
  if (v.decision === 'reject' && !v.reason) c.addIssue({ code: 'custom', path: ['reason'], message: 'institutions:requests.errors.reasonRequired' });
});
