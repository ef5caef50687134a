/**
 * Pure rules of integrity sanctions (科研失信): when a sanction is in force, how its dates are read from
 * forms, and which sanctions hit which people and institutions. No Express, no Sequelize.
 *
 * Period convention: a sanction is in force from `startsAt` INCLUSIVE until its effective end EXCLUSIVE,
 * where the effective end is the earlier of `endsAt` (null = no end date) and `liftedAt` (set when an
 * officer ends it early). Forms speak in whole days, Asia/Shanghai: the start day counts from 00:00 Beijing
 * time, the last day counts until 24:00, so `endsAt` is 00:00 of the day after the last day.
 */
import { parseShanghaiLocal, SHANGHAI_OFFSET_MS } from '../platform/time.js';

export const SUBJECT_TYPES = ['person', 'institution'] as const;
export type SubjectType = (typeof SUBJECT_TYPES)[number];

export interface SanctionPeriod {
  startsAt: Date;
  endsAt: Date | null;
  liftedAt?: Date | null;
}

const DAY_MS = 86_400_000;

/** The first instant the sanction no longer applies, or null when it has no end (yet). */
export function effectiveEnd(s: SanctionPeriod): Date | null {
  const ends = [s.endsAt, s.liftedAt ?? null].filter((d): d is Date => d instanceof Date);
  if (!ends.length) return null;
  return new Date(Math.min(...ends.map((d) => d.getTime())));
}

/** In force at `at`: startsAt ≤ at < effective end (start inclusive, end exclusive). */
export function isActive(s: SanctionPeriod, at: Date): boolean {
  const t = at.getTime();
  if (t < s.startsAt.getTime()) return false;
  const end = effectiveEnd(s);
  return end === null || t < end.getTime();
}

export type SanctionState = 'upcoming' | 'active' | 'ended' | 'lifted';

/** What a list shows: not started yet, in force, run out, or ended early by an officer. */
export function sanctionState(s: SanctionPeriod, at: Date): SanctionState {
  if (isActive(s, at)) return 'active';
  if (at.getTime() < s.startsAt.getTime()) return s.liftedAt && s.liftedAt.getTime() <= at.getTime() ? 'lifted' : 'upcoming';
  const lifted = s.liftedAt && (!s.endsAt || s.liftedAt.getTime() < s.endsAt.getTime());
  return lifted ? 'lifted' : 'ended';
}

// ---- dates in forms (whole days, Asia/Shanghai) ---------------------------------------------------------

/** "YYYY-MM-DD" → 00:00 of that day in Beijing time, or null when it is not a real date. */
export function shanghaiDayStart(raw: string): Date | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(raw.trim())) return null;
  return parseShanghaiLocal(`${raw.trim()}T00:00`);
}

/** The last day of a sanction as typed ("YYYY-MM-DD", inclusive) → the exclusive end instant (next day 00:00). */
export function endAfterLastDay(raw: string): Date | null {
  const start = shanghaiDayStart(raw);
  return start ? new Date(start.getTime() + DAY_MS) : null;
}

/** An instant → "YYYY-MM-DD" of its Beijing calendar day. */
export function shanghaiDay(d: Date): string {
  return new Date(d.getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10);
}

/** The last day (inclusive, Beijing calendar) of a period ending (exclusively) at `end`. */
export function lastDayOf(end: Date): string {
  return shanghaiDay(new Date(end.getTime() - 1));
}

export interface PeriodInput {
  startDay: string;
  /** Last day, inclusive; '' = no end date. */
  lastDay: string;
}

export type PeriodProblem = { field: 'startDay' | 'lastDay'; key: string };

/** The instants of a typed period, or the field that is wrong. */
export function periodFrom(input: PeriodInput): { ok: true; startsAt: Date; endsAt: Date | null } | { ok: false; problem: PeriodProblem } {
  const startsAt = shanghaiDayStart(input.startDay);
  if (!startsAt) return { ok: false, problem: { field: 'startDay', key: 'integrity:errors.startDay' } };
  if (!input.lastDay.trim()) return { ok: true, startsAt, endsAt: null };
  const endsAt = endAfterLastDay(input.lastDay);
  if (!endsAt) return { ok: false, problem: { field: 'lastDay', key: 'integrity:errors.lastDay' } };
  if (endsAt.getTime() <= startsAt.getTime()) return { ok: false, problem: { field: 'lastDay', key: 'integrity:errors.lastBeforeStart' } };
  return { ok: true, startsAt, endsAt };
}

// ---- who is hit ----------------------------------------------------------------------------------------

export interface SanctionSubject extends SanctionPeriod {
  id: number;
  subjectType: SubjectType;
  subjectUserId: number | null;
  subjectInstitutionId: number | null;
  subjectCreditCode: string | null;
}

export interface Parties {
  userIds: Iterable<number>;
  institutionIds?: Iterable<number>;
  creditCodes?: Iterable<string>;
}

/** Does the sanction name one of these people or institutions (by registry id or by credit code)? */
export function concerns(s: SanctionSubject, p: Parties): boolean {
  if (s.subjectType === 'person') return s.subjectUserId !== null && new Set(p.userIds).has(s.subjectUserId);
  const codes = new Set([...(p.creditCodes ?? [])].map((c) => c.trim().toUpperCase()));
  if (s.subjectCreditCode && codes.has(s.subjectCreditCode.toUpperCase())) return true;
  return s.subjectInstitutionId !== null && new Set(p.institutionIds ?? []).has(s.subjectInstitutionId);
}

/** The sanctions among `all` that are in force at `at` against one of the parties. */
export function sanctionsAgainst<S extends SanctionSubject>(all: readonly S[], p: Parties, at: Date): S[] {
  return all.filter((s) => isActive(s, at) && concerns(s, p));
}
