/** Input schemas of the expert pool pages. Messages are i18n keys shown next to the field. */
import { z } from 'zod';
import { keywordProblem, keywordProblemKey, LOAD_RANGE, MAX_DISCIPLINES, parseDisciplines, parseKeywords } from './experts-rules.js';

/** /experts?q=&discipline=&province=&available=&page= */
export const expertSearchSchema = z.object({
  q: z.string().trim().max(100).optional().default(''),
  discipline: z
    .string()
    .trim()
    .max(8)
    .regex(/^(?:[A-Za-z]\d{0,6})?$/)
    .optional()
    .default('')
    .transform((v) => v.toUpperCase()),
  province: z.string().trim().max(8).regex(/^[A-Za-z0-9]*$/).optional().default(''),
  available: z.enum(['', '1']).optional().default(''),
  page: z.coerce.number().int().min(1).max(100000).optional().default(1),
});
export type ExpertSearch = z.infer<typeof expertSearchSchema>;

/** The expert's own profile. The province is not here: it comes from the account's institution. */
export const expertProfileSchema = z.object({
  title: z.string().trim().max(100, 'common:form.tooLong').optional().transform((v) => v || null),
  disciplines: z
    .string({ message: 'experts:profile.errors.disciplinesRequired' })
    .trim()
    .max(200, 'common:form.tooLong')
    .superRefine((raw, c) => {
      const { codes, bad } = parseDisciplines(raw);
      if (bad.length) c.addIssue({ code: 'custom', message: 'experts:profile.errors.disciplineInvalid' });
      else if (!codes.length) c.addIssue({ code: 'custom', message: 'experts:profile.errors.disciplinesRequired' });
      else if (codes.length > MAX_DISCIPLINES) c.addIssue({ code: 'custom', message: 'experts:profile.errors.tooManyDisciplines' });
    })
    .transform((raw) => parseDisciplines(raw).codes),
  keywords: z
    .string()
    .trim()
    .max(500, 'common:form.tooLong')
    .optional()
    .default('')
    .superRefine((raw, c) => {
      const p = keywordProblem(parseKeywords(raw));
      if (p) c.addIssue({ code: 'custom', message: `experts:profile.errors.${keywordProblemKey(p)}` });
    })
    .transform((raw) => parseKeywords(raw)),
  bio: z.string().trim().max(5000, 'common:form.tooLong').optional().transform((v) => v || null),
  available: z
    .enum(['1'])
    .optional()
    .transform((v) => v === '1'),
  maxLoad: z.coerce
    .number({ message: 'experts:profile.errors.maxLoad' })
    .int('experts:profile.errors.maxLoad')
    .min(LOAD_RANGE.min, 'experts:profile.errors.maxLoad')
    .max(LOAD_RANGE.max, 'experts:profile.errors.maxLoad'),
});
export type ExpertProfileInput = z.infer<typeof expertProfileSchema>;
