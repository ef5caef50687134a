/**
 * Sign-in with passport-local. The session keeps the actor (id, name, roles…), so pages need no user query;
 * anything that changes a user's roles or disables them ends their sessions.
 */
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import type { AppContext } from '../platform/context.js';
import type { Actor } from '../platform/policy.js';
import { verifyPassword } from '../platform/passwords.js';
import { User, UserRole } from './models.js';
import { afterFailure, isLocked, normaliseEmail, type ThrottleState } from './rules.js';
import { QueryTypes, type Sequelize } from 'sequelize';

export async function actorFor(userId: number): Promise<Actor | null> {
  const user = await User.findByPk(userId);
  if (!user || user.disabledAt) return null;
  const roles = await UserRole.findAll({ where: { userId }, order: [['id', 'ASC']] });
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    lang: user.lang,
    institutionId: user.institutionId,
    roles: roles.map((r) => ({ role: r.role, provinceCode: r.provinceCode, institutionId: r.institutionId })),
  };
}

// ---- throttling (per identifier and per IP, in the database so all processes agree) ---------------

async function readThrottle(sequelize: Sequelize, key: string): Promise<ThrottleState | null> {
  const rows = await sequelize.query<{ failures: number; window_start: string | Date; locked_until: string | Date | null }>(
    'SELECT failures, window_start, locked_until FROM login_throttles WHERE throttle_key = ?',
    { replacements: [key], type: QueryTypes.SELECT },
  );
  const r = rows[0];
  return r ? { failures: Number(r.failures), windowStart: new Date(r.window_start), lockedUntil: r.locked_until ? new Date(r.locked_until) : null } : null;
}

async function writeThrottle(sequelize: Sequelize, key: string, s: ThrottleState): Promise<void> {
  const sql =
    sequelize.getDialect() === 'sqlite'
      ? 'INSERT INTO login_throttles (throttle_key, failures, window_start, locked_until) VALUES (?, ?, ?, ?) ON CONFLICT(throttle_key) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start, locked_until = excluded.locked_until'
      : 'INSERT INTO login_throttles (throttle_key, failures, window_start, locked_until) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE failures = VALUES(failures), window_start = VALUES(window_start), locked_until = VALUES(locked_until)';
  await sequelize.query(sql, { replacements: [key, s.failures, s.windowStart, s.lockedUntil] });
}

export const throttleKeys = (email: string, ip: string) => [`id:${normaliseEmail(email)}`.slice(0, 191), `ip:${ip}`.slice(0, 191)];

/** Per-IP limits are looser than per-account ones: several people may share an office address. */
const IP_FACTOR = 5;

export async function lockedFor(sequelize: Sequelize, email: string, ip: string, now = new Date()): Promise<Date | null> {
  const [idKey, ipKey] = throttleKeys(email, ip);
  const [a, b] = await Promise.all([readThrottle(sequelize, idKey!), readThrottle(sequelize, ipKey!)]);
  if (isLocked(a, now)) return a!.lockedUntil;
  if (isLocked(b, now)) return b!.lockedUntil;
  return null;
}

export async function recordFailure(sequelize: Sequelize, email: string, ip: string, now = new Date()): Promise<void> {
  const [idKey, ipKey] = throttleKeys(email, ip);
  await writeThrottle(sequelize, idKey!, afterFailure(await readThrottle(sequelize, idKey!), now));
  const ipState = afterFailure(await readThrottle(sequelize, ipKey!), now, { maxFailures: 10 * IP_FACTOR, windowMs: 15 * 60_000, lockMs: 15 * 60_000 });
  await writeThrottle(sequelize, ipKey!, ipState);
}

export async function clearFailures(sequelize: Sequelize, email: string): Promise<void> {
  await sequelize.query('DELETE FROM login_throttles WHERE throttle_key = ?', { replacements: [throttleKeys(email, '')[0]] });
}

export class LockedOut extends Error {
  constructor(public readonly until: Date) {
    super('locked');
  }
}

export type Authenticator = InstanceType<typeof passport.Authenticator>;

/** One authenticator per app (not passport's global), bound to that app's database. */
export function createAuthenticator(ctx: AppContext): Authenticator {
  const { sequelize } = ctx;
  const auth: Authenticator = new passport.Authenticator();
  auth.use(
    new LocalStrategy({ usernameField: 'email', passwordField: 'password', passReqToCallback: true }, async (req, email, password, done) => {
      try {
        const ip = req.ip ?? '';
        const until = await lockedFor(sequelize, email, ip);
        if (until) return done(new LockedOut(until));
        const user = await User.findOne({ where: { email: normaliseEmail(email) } });
        const ok = await verifyPassword(user?.passwordHash ?? null, password);
        if (!ok || !user || user.disabledAt) {
          await recordFailure(sequelize, email, ip);
          const nowLocked = await lockedFor(sequelize, email, ip);
          if (nowLocked) return done(new LockedOut(nowLocked));
          return done(null, false);
        }
        await clearFailures(sequelize, email);
        if (!user.emailVerifiedAt) return done(null, false, { reason: 'unverified' } as never);
        return done(null, (await actorFor(user.id))!);
      } catch (e) {
        return done(e);
      }
    }),
  );
  auth.serializeUser<Actor>((actor, done) => done(null, actor as Actor));
  auth.deserializeUser<Actor>((actor, done) => done(null, actor));
  return auth;
}

