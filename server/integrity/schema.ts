/** Input schemas of the integrity area. Messages are i18n keys shown next to the field. */
import { z } from 'zod';
import { SUBJECT_TYPES } from './rules.js';

const text = (max: number, key: string) => z.string({ message: key }).trim().min(1, key).max(max, 'common:form.tooLong');
const optional = (max: number) =>
  z
    .string()
    .trim()
    .max(max, 'common:form.tooLong')
    .optional()
    .transform((v) => v ?? '');
const day = (key: string) => z.string({ message: key }).trim().max(10, key);

const common = {
  reason: text(2000, 'integrity:errors.reason'),
  legalBasis: text(500, 'integrity:errors.legalBasis'),
  startDay: day('integrity:errors.startDay'),
  lastDay: day('integrity:errors.lastDay').optional().transform((v) => v ?? ''),
};

/** Recording a sanction. The subject is a user (by e-mail) or an institution (by credit code). */
export const sanctionCreateSchema = z
  .object({
    subjectType: z.enum(SUBJECT_TYPES, { message: 'integrity:errors.subjectType' }),
    email: optional(254),
    creditCode: optional(40),
    institutionName: optional(191),
    provinceCode: z.string({ message: 'integrity:errors.province' }).trim().min(1, 'integrity:errors.province').max(8, 'integrity:errors.province'),
    ...common,
  })
  .superRefine((v, c) => {
    if (v.subjectType === 'person' && !v.email) c.addIssue({ code: 'custom', path: ['email'], message: 'integrity:errors.email' });
    if (v.subjectType === 'institution' && !v.creditCode) c.addIssue({ code: 'custom', path: ['creditCode'], message: 'integrity:errors.creditCode' });
  });
export type SanctionCreateInput = z.infer<typeof sanctionCreateSchema>;

/** Correcting a sanction: the subject and the recording province stay; every change says why. */
export const sanctionEditSchema = z.object({
  ...common,
  changeReason: text(500, 'integrity:errors.changeReason'),
});
export type SanctionEditInput = z.infer<typeof sanctionEditSchema>;

/** Ending a sanction early, with the reason. */
export const sanctionLiftSchema = z.object({ liftReason: text(500, 'integrity:errors.liftReason') });

/** /integrity?q=&province=&state=&page= */
export const sanctionSearchSchema = z.object({
  q: z.string().trim().max(100).optional().default(''),
  province: z.string().trim().max(8).regex(/^[A-Za-z0-9]*$/).optional().default(''),
  state: z.enum(['', 'active', 'upcoming', 'ended', 'lifted']).optional().default(''),
  page: z.coerce.number().int().min(1).max(100000).optional().default(1),
});
export type SanctionSearch = z.infer<typeof sanctionSearchSchema>;
