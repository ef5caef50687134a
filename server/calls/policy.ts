/**
 * Who may do what with calls, with the reason when not. Route policies (for guard) and plain decisions the
 * service re-checks inside its transaction, so a forged form cannot get past either.
 *
 * - Anyone reads a call that has been published (and its later stages); drafts exist only for officers/admins.
 * - Officers of any province and admins prepare calls and move them through the lifecycle.
 * - A province's pledge is entered only by an officer of that province (not by admins, not by other provinces).
 */
import { ALLOW, definePolicy, hasRole, officerProvinces, refuse, type Actor, type Decision } from '../platform/policy.js';
import { canTransition, type CallStatus } from './rules.js';

export function managesCalls(actor: Actor | null): boolean {
  return hasRole(actor, 'officer') || hasRole(actor, 'admin');
}

/** Route policy: officers (any province) and admins. */
export const canManageCalls = definePolicy('programme officers of any province and platform admins', (actor) =>
  !actor ? refuse('common:policy.signInRequired', 401) : managesCalls(actor) ? ALLOW : refuse('calls:policy.managersOnly'),
);

/** Route policy for POST /calls/:id/pledges/:province: only an officer of the province named in the URL. */
export const canPledgeForProvince = definePolicy("programme officers of the province in the URL (its pledge only; admins cannot)", (actor, req) =>
  pledgeDecision(actor, String(req.params.province ?? '')),
);

/** Whether the actor may see a call in this status (a draft is a 404 to everyone but managers). */
export function canSeeCall(actor: Actor | null, status: CallStatus): Decision {
  if (status !== 'draft' || managesCalls(actor)) return ALLOW;
  return refuse('common:errors.notFound.reason', 404);
}

/** Settings, topics, criteria, categories and attachment kinds change only while the call is a draft. */
export function canEditSettings(actor: Actor | null, status: CallStatus): Decision {
  if (!managesCalls(actor)) return refuse('calls:policy.managersOnly');
  return status === 'draft' ? ALLOW : refuse('calls:policy.lockedAfterPublish');
}

/** An officer enters the pledge of their own province(s) only. */
export function pledgeDecision(actor: Actor | null, provinceCode: string): Decision {
  if (!actor) return refuse('common:policy.signInRequired', 401);
  if (officerProvinces(actor).includes(provinceCode)) return ALLOW;
  if (hasRole(actor, 'officer')) return refuse('calls:policy.notYourProvince');
  return refuse('calls:policy.pledgeOfficersOnly');
}

/** Pledges stay adjustable (top-ups for funding gaps) until the call is archived. */
export function canChangePledge(actor: Actor | null, provinceCode: string, status: CallStatus): Decision {
  const d = pledgeDecision(actor, provinceCode);
  if (!d.ok) return d;
  return status === 'archived' ? refuse('calls:policy.archived') : ALLOW;
}

export function canMove(actor: Actor | null, from: CallStatus, to: CallStatus): Decision {
  if (!managesCalls(actor)) return refuse('calls:policy.managersOnly');
  return canTransition(from, to) ? ALLOW : refuse('calls:policy.transitionNotAllowed');
}

/** Only a published call's deadline may be extended. */
export function canExtendDeadline(actor: Actor | null, status: CallStatus): Decision {
  if (!managesCalls(actor)) return refuse('calls:policy.managersOnly');
  return status === 'published' ? ALLOW : refuse('calls:policy.extendOnlyPublished');
}
