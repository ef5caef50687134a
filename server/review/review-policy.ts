/**
 * Who may open and write a review: only the expert of the assignment, once they accepted it. Everyone else —
 * other experts, the proposal's PI, officers — is refused with 403 on this expert route (officers read reviews
 * through their own pages). The same answer for a missing assignment, so ids reveal nothing.
 */
import type { Request } from 'express';
import { ALLOW, can, definePolicy, hasRole, refuse, type Actor, type Decision } from '../platform/policy.js';
import { ReviewAssignment } from './review-models.js';

export interface AssignmentFacts {
  id: number;
  callId: number;
  proposalId: number;
  expertUserId: number;
  status: string;
}

const ASSIGNMENT = Symbol('reviewAssignment');
type WithAssignment = Request & { [ASSIGNMENT]?: AssignmentFacts };

export function assignmentIdParam(v: unknown): number | null {
  const n = typeof v === 'string' && /^\d{1,10}$/.test(v) ? Number(v) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** Pure decision: the actor is the assignment's expert and the assignment is accepted. */
export function canReview(actor: Actor | null, a: AssignmentFacts | null): Decision {
  if (!actor) return refuse('common:policy.signInRequired', 401);
  if (!a || !hasRole(actor, 'expert') || a.expertUserId !== actor.id) return refuse('reviews:policy.notYours');
  if (a.status !== 'accepted') return refuse('reviews:policy.notAccepted');
  return ALLOW;
}

export const expertOnly = can.role('expert');

export const assignedExpert = definePolicy('the expert of the review assignment, once they accepted it', async (actor, req) => {
  if (!actor) return refuse('common:policy.signInRequired', 401);
  const id = assignmentIdParam(req.params.assignmentId);
  const a = id ? await ReviewAssignment.findByPk(id, { attributes: ['id', 'callId', 'proposalId', 'expertUserId', 'status'], raw: true }) : null;
  const d = canReview(actor, a as AssignmentFacts | null);
  if (d.ok) (req as WithAssignment)[ASSIGNMENT] = a as AssignmentFacts;
  return d;
});

/** The assignment the route's policy loaded. */
export function assignmentOf(req: Request): AssignmentFacts {
  const a = (req as WithAssignment)[ASSIGNMENT];
  if (!a) throw new Error('review policy did not run');
  return a;
}
