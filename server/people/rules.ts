/**
 * Pure rules about people and institutions: no Express, no Sequelize.
 */

export const ROLES = ['applicant', 'expert', 'officer', 'institution_admin', 'admin'] as const;
export type RoleName = (typeof ROLES)[number];

export const INSTITUTION_TYPES = ['university', 'institute', 'enterprise', 'hospital', 'other'] as const;
export type InstitutionType = (typeof INSTITUTION_TYPES)[number];

/** A role as held by a user, with its scope: officers are bound to a province, institution admins to an institution. */
export interface RoleGrant {
  role: RoleName;
  provinceCode?: string | null;
  institutionId?: number | null;
}

export function roleScopeKey(g: RoleGrant): string {
  if (g.role === 'officer') return `province:${g.provinceCode}`;
  if (g.role === 'institution_admin') return `institution:${g.institutionId}`;
  return '';
}

/** Why a grant is malformed (an i18n key), or null when it is well-formed. */
export function grantProblem(g: RoleGrant): string | null {
  if (!ROLES.includes(g.role)) return 'people:roles.errors.unknownRole';
  if (g.role === 'officer' && !g.provinceCode) return 'people:roles.errors.provinceRequired';
  if (g.role === 'institution_admin' && !g.institutionId) return 'people:roles.errors.institutionRequired';
  return null;
}

// ---- 统一社会信用代码 (GB 32100-2015) -------------------------------------------------------------

/** The 31 characters of the code alphabet (no I, O, S, V, Z), in value order. */
export const CREDIT_CODE_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** The check character for the first 17 characters, or null when one of them is outside the alphabet. */
export function creditCodeCheckChar(first17: string): string | null {
  if (first17.length !== 17) return null;
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = CREDIT_CODE_ALPHABET.indexOf(first17[i]!);
    if (v < 0) return null;
    sum += v * WEIGHTS[i]!;
  }
  const c = (31 - (sum % 31)) % 31;
  return CREDIT_CODE_ALPHABET[c]!;
}

export type CreditCodeProblem = 'length' | 'charset' | 'checkDigit';

/** Normalise (trim, upper-case) and check a unified social credit code. */
export function checkCreditCode(raw: string): { code: string; problem: CreditCodeProblem | null } {
  const code = raw.trim().toUpperCase();
  if (code.length !== 18) return { code, problem: 'length' };
  for (const ch of code) if (!CREDIT_CODE_ALPHABET.includes(ch)) return { code, problem: 'charset' };
  return { code, problem: creditCodeCheckChar(code.slice(0, 17)) === code[17] ? null : 'checkDigit' };
}

/** Seeds of syntheticCreditCode: below 31^9, the number of its nine free characters' values. */
export const SYNTHETIC_CREDIT_SEEDS = 31 ** 9;

/**
 * A valid-looking code derived from a seed: used only for the demo dataset and the benches, whose institutions
 * are real or made up but whose codes are synthetic (registration authority 1 = institutions, 2 = public
 * institutions). Distinct seeds give distinct codes (the column is UNIQUE, and the benches draw seeds at
 * random): the seed is scrambled by an affine map modulo 31^9, a bijection since the multiplier is prime to 31,
 * and written in nine characters of the code's alphabet. In BigInt: the products pass 2^53.
 */
export function syntheticCreditCode(seed: number, kind: '1' | '9' = '1'): string {
  if (!Number.isSafeInteger(seed) || seed < 0 || seed >= SYNTHETIC_CREDIT_SEEDS) throw new RangeError(`syntheticCreditCode: seed ${seed} outside [0, 31^9)`);
  let x = (BigInt(seed) * 2654435761n + 12345n) % BigInt(SYNTHETIC_CREDIT_SEEDS);
  let free = '';
  for (let i = 0; i < 9; i++, x /= 31n) free = CREDIT_CODE_ALPHABET[Number(x % 31n)] + free;
  const body = kind + '2' + '310000' + free; // authority, category, administrative division, then the nine
  return body + creditCodeCheckChar(body);
}

// ---- accounts ------------------------------------------------------------------------------------

export function normaliseEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

/** Password rules (NIST 800-63B): length matters, composition rules do not. */
export function passwordProblem(password: string, email: string): string | null {
  if (password.length < 10) return 'people:password.tooShort';
  if (password.length > 200) return 'people:password.tooLong';
  if (password.toLowerCase() === email.toLowerCase()) return 'people:password.sameAsEmail';
  return null;
}

// ---- sign-in throttling --------------------------------------------------------------------------

export const LOCKOUT = { maxFailures: 10, windowMs: 15 * 60_000, lockMs: 15 * 60_000 };

export interface ThrottleState {
  failures: number;
  windowStart: Date;
  lockedUntil: Date | null;
}

/** Still locked at `now`? */
export function isLocked(s: ThrottleState | null, now: Date): boolean {
  return !!s?.lockedUntil && s.lockedUntil.getTime() > now.getTime();
}

/** The state after one more failure at `now`: failures inside the window accumulate; the tenth locks. */
export function afterFailure(s: ThrottleState | null, now: Date, p = LOCKOUT): ThrottleState {
  const fresh = !s || now.getTime() - s.windowStart.getTime() > p.windowMs || (s.lockedUntil !== null && s.lockedUntil <= now);
  const failures = fresh ? 1 : s.failures + 1;
  const windowStart = fresh ? now : s.windowStart;
  return { failures, windowStart, lockedUntil: failures >= p.maxFailures ? new Date(now.getTime() + p.lockMs) : null };
}

/** An account's address: users.email holds 191 characters (a unique utf8mb4 key), less than the 254 mail allows. */
export const MAX_ACCOUNT_EMAIL = 191;
