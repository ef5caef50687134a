/**
 * Who may use what. Every route is declared through `guard(router)` with a policy; a policy returns either
 * allowed or a refusal carrying an i18n reason the UI shows (HotCRP's can/perm pairs). The declarations
 * are recorded so a test can prove that no route was mounted without one.
 */
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { RoleGrant, RoleName } from '../people/rules.js';

/** The signed-in user as kept in the session (no database read per request). */
export interface Actor {
  id: number;
  email: string;
  name: string;
  lang: string;
  institutionId: number | null;
  roles: RoleGrant[];
}

export type Decision = { ok: true } | { ok: false; status: 401 | 403 | 404; reason: string };
export type Policy = ((actor: Actor | null, req: Request) => Decision | Promise<Decision>) & { description?: string };

export const ALLOW: Decision = { ok: true };
export const refuse = (reason: string, status: 401 | 403 | 404 = 403): Decision => ({ ok: false, status, reason });

export function hasRole(actor: Actor | null, role: RoleName): boolean {
  return !!actor?.roles.some((r) => r.role === role);
}

export function officerProvinces(actor: Actor | null): string[] {
  return (actor?.roles ?? []).filter((r) => r.role === 'officer' && r.provinceCode).map((r) => r.provinceCode!);
}

function named(p: Policy, description: string): Policy {
  p.description = description;
  return p;
}

/** Building blocks shared by all areas; areas compose their own in their policy.ts. */
export const can = {
  anyone: named(() => ALLOW, 'anyone, signed in or not'),
  guest: named((a) => (a ? refuse('common:policy.alreadySignedIn') : ALLOW), 'visitors who are not signed in'),
  signedIn: named((a) => (a ? ALLOW : refuse('common:policy.signInRequired', 401)), 'any signed-in user'),
  role: (...roles: RoleName[]): Policy =>
    named(
      (a) => (!a ? refuse('common:policy.signInRequired', 401) : roles.some((r) => hasRole(a, r)) ? ALLOW : refuse(`common:policy.needsRole.${roles.join('_or_')}`)),
      `users with role ${roles.join(' or ')}`,
    ),
};

export interface RouteDeclaration {
  method: string;
  path: string;
  policy: string;
}

export const declaredRoutes: RouteDeclaration[] = [];

export class Forbidden extends Error {
  constructor(
    public readonly status: 401 | 403 | 404,
    public readonly reason: string,
  ) {
    super(reason);
  }
}

function enforce(policy: Policy): RequestHandler {
  return async function enforcePolicy(req: Request, _res: Response, next: NextFunction) {
    const d = await policy((req.user as Actor | undefined) ?? null, req);
    if (d.ok) return next();
    next(new Forbidden(d.status, d.reason));
  };
}

type Method = 'get' | 'post';

/** `guard(router).get(path, policy, …handlers)`: a route cannot be declared without its policy. */
export function guard(router: Pick<Router, Method>, prefix = '') {
  const add = (method: Method) => (path: string, policy: Policy, ...handlers: RequestHandler[]) => {
    if (!policy.description) throw new Error(`policy for ${method.toUpperCase()} ${prefix}${path} has no description`);
    declaredRoutes.push({ method: method.toUpperCase(), path: prefix + path, policy: policy.description });
    router[method](path, enforce(policy), ...handlers);
  };
  return { get: add('get'), post: add('post') };
}

/** Policy for an area, with its description: `definePolicy('officers of the proposal\'s provinces', fn)`. */
export function definePolicy(description: string, fn: (actor: Actor | null, req: Request) => Decision | Promise<Decision>): Policy {
  return named(fn, description);
}
