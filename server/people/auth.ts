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
import type { Sequelize } from 'sequelize';
import { clearThrottle, lockedUntil, recordHit } from '../platform/throttle.js';
import { LOCKOUT, normaliseEmail } from './rules.js';

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

export const throttleKeys = (email: string, ip: string) => [`id:${normaliseEmail(email)}`, `ip:${ip}`];

/** Per-IP limits are looser than per-account ones: several people may share an office address. */
const IP_POLICY = { ...LOCKOUT, maxFailures: LOCKOUT.maxFailures * 5 };

export function lockedFor(sequelize: Sequelize, email: string, ip: string, now = new Date()): Promise<Date | null> {
  return lockedUntil(sequelize, throttleKeys(email, ip), now);
}

export async function recordFailure(sequelize: Sequelize, email: string, ip: string, now = new Date()): Promise<void> {
  const [idKey, ipKey] = throttleKeys(email, ip);
  await recordHit(sequelize, idKey!, LOCKOUT, now);
  await recordHit(sequelize, ipKey!, IP_POLICY, now);
}

export function clearFailures(sequelize: Sequelize, email: string): Promise<void> {
  return clearThrottle(sequelize, throttleKeys(email, '')[0]!);
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

