/** Input schemas of the endorsement and screening pages. Messages are i18n keys shown next to the field. */
import { z } from 'zod';
import { INSTITUTION_TYPES } from '../people/rules.js';
import { pageParam } from '../platform/mail/routes.js';
import { SCREENING_SORTS, SCREENING_STATUSES } from './screening-query.js';
import { SCREENING_DECISIONS } from './screening-rules.js';
import { ENDORSEMENT_FILTERS } from './endorsement-service.js';

const invalid = { message: 'common:form.invalid' };
const optionalEnum = <T extends readonly [string, ...string[]]>(values: T) => z.union([z.literal(''), z.enum(values)], invalid).optional().default('');

/** The screening list's filters, sort and page; anything outside the allowlists is a 400, never SQL. */
export const screeningQuery = z.object({
  call: z
    .string(invalid)
    .regex(/^([1-9][0-9]{0,8})?$/, 'common:form.invalid')
    .optional()
    .default('')
    .transform((v) => (v ? Number(v) : null)),
  status: optionalEnum(SCREENING_STATUSES),
  province: z.string(invalid).regex(/^[A-Z]{0,8}$/, 'common:form.invalid').optional().default(''),
  leadType: optionalEnum(INSTITUTION_TYPES),
  q: z.string(invalid).trim().max(100, 'common:form.tooLong').optional().default(''),
  eligibility: optionalEnum(['pass', 'fail'] as const),
  sort: z.enum(SCREENING_SORTS, invalid).optional().default('submitted'),
  dir: z.enum(['asc', 'desc'], invalid).optional().default('desc'),
  page: pageParam,
});
export type ScreeningQuery = z.infer<typeof screeningQuery>;

export const decisionSchema = z.object({
  decision: z.enum(SCREENING_DECISIONS, { message: 'screening:decide.errors.decision' }),
  reason: z.string(invalid).trim().max(1000, 'common:form.tooLong').optional().default(''),
});

export const returnSchema = z.object({
  reason: z.string({ message: 'screening:endorse.errors.reasonRequired' }).trim().min(1, 'screening:endorse.errors.reasonRequired').max(1000, 'common:form.tooLong'),
});

export const endorsementQuery = z.object({
  show: z.enum(ENDORSEMENT_FILTERS, invalid).optional().default('pending'),
  page: pageParam,
});
