/**
 * Who may manage institutions, decide institution requests and administer users — with the reason when not.
 * The pure decisions (`mayManageProvince`, `revokeRefusal`, `disableRefusal`) are shared by the route
 * policies, the services (defence in depth) and the views (to explain a missing button).
 */
import type { Request } from 'express';
import { ALLOW, can, definePolicy, hasRole, officerProvinces, refuse, type Actor, type Decision } from '../platform/policy.js';
import { Institution, InstitutionRequest, UserRole } from './models.js';
import type { RoleName } from './rules.js';

/** A positive integer route parameter, or null. */
export function idParam(req: Request, name = 'id'): number | null {
  const raw = (req.params as Record<string, string | undefined>)[name];
  return raw && /^[1-9][0-9]{0,9}$/.test(raw) && Number(raw) <= 2147483647 ? Number(raw) : null;
}

/** Admins manage every province's institutions; an officer only those of the province(s) they are bound to. */
export function mayManageProvince(actor: Actor | null, provinceCode: string): Decision {
  if (!actor) return refuse('common:policy.signInRequired', 401);
  if (hasRole(actor, 'admin')) return ALLOW;
  if (!hasRole(actor, 'officer')) return refuse('common:policy.needsRole.admin_or_officer');
  return officerProvinces(actor).includes(provinceCode) ? ALLOW : refuse('institutions:policy.otherProvince');
}

/** The provinces an actor may manage, or null for all (admins). */
export function managedProvinces(actor: Actor | null): string[] | null {
  if (hasRole(actor, 'admin')) return null;
  return officerProvinces(actor);
}

/** Why an admin may not revoke this role, or null. Nobody revokes their own admin role (lock-out guard). */
export function revokeRefusal(actorId: number, targetUserId: number, role: RoleName): string | null {
  return actorId === targetUserId && role === 'admin' ? 'admin:refusals.revokeOwnAdmin' : null;
}

/** Why an admin may not disable this account, or null. */
export function disableRefusal(actorId: number, targetUserId: number): string | null {
  return actorId === targetUserId ? 'admin:refusals.disableSelf' : null;
}

const adminOrOfficer = can.role('admin', 'officer');

export const institutionPolicy = {
  /** The registry is shared: any signed-in user may look it up and ask for a missing institution. */
  browse: can.signedIn,
  request: can.signedIn,
  /** Create: admins and officers; the province of the new institution is checked against the officer's scope. */
  create: definePolicy('admins and officers (officers only in their own province)', (a, req) => adminOrOfficer(a, req)),
  /** Edit: admins, and officers of the institution's province. */
  edit: definePolicy("admins, and officers of the institution's province", async (a, req) => {
    const base = await adminOrOfficer(a, req);
    if (!base.ok) return base;
    const id = idParam(req);
    const inst = id ? await Institution.findByPk(id, { attributes: ['provinceCode'], raw: true }) : null;
    if (!inst) return refuse('institutions:errors.notFound', 404);
    return mayManageProvince(a, inst.provinceCode);
  }),
  /** The request queue: admins see all, officers the requests of their province. */
  reviewRequests: definePolicy("admins, and officers (for their own province's requests)", (a, req) => adminOrOfficer(a, req)),
  decideRequest: definePolicy("admins, and officers of the requested institution's province", async (a, req) => {
    const base = await adminOrOfficer(a, req);
    if (!base.ok) return base;
    const id = idParam(req);
    const row = id ? await InstitutionRequest.findByPk(id, { attributes: ['provinceCode'], raw: true }) : null;
    if (!row) return refuse('institutions:requests.errors.notFound', 404);
    return mayManageProvince(a, row.provinceCode);
  }),
};

const adminOnly = can.role('admin');

export const adminPolicy = {
  users: adminOnly,
  grant: adminOnly,
  revoke: definePolicy('admins, except for their own admin role', async (a, req) => {
    const base = await adminOnly(a, req);
    if (!base.ok) return base;
    const userId = idParam(req);
    const roleId = idParam(req, 'roleId');
    const row = userId && roleId ? await UserRole.findOne({ where: { id: roleId, userId }, attributes: ['role'], raw: true }) : null;
    if (!row) return refuse('admin:errors.roleNotFound', 404);
    const why = revokeRefusal(a!.id, userId!, row.role);
    return why ? refuse(why) : ALLOW;
  }),
  disable: definePolicy('admins, except on their own account', async (a, req) => {
    const base = await adminOnly(a, req);
    if (!base.ok) return base;
    const userId = idParam(req);
    if (!userId) return refuse('admin:errors.userNotFound', 404);
    const why = disableRefusal(a!.id, userId);
    return why ? refuse(why) : ALLOW;
  }),
};
