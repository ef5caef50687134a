/**
 * Route policies of the proposal pages. Each loads the proposal bundle once (kept on the request for the
 * handler) and decides from plain facts with policy.ts, so pages, downloads and actions agree.
 */
import type { Request } from 'express';
import { ALLOW, definePolicy, refuse, type Actor, type Decision, type Policy } from '../platform/policy.js';
import { accessFacts, loadBundle, type ProposalBundle } from './bundle.js';
import { canEdit, canView, relationsTo, type ProposalAccessFacts } from './policy.js';

const BUNDLE = Symbol('proposalBundle');
type WithBundle = Request & { [BUNDLE]?: ProposalBundle };

/** The bundle the route's policy loaded. */
export function bundleOf(req: Request): ProposalBundle {
  const b = (req as WithBundle)[BUNDLE];
  if (!b) throw new Error('proposal policy did not run');
  return b;
}

export function idParam(v: unknown): number | null {
  const n = typeof v === 'string' && /^\d{1,10}$/.test(v) ? Number(v) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

function proposalPolicy(description: string, decide: (actor: Actor, f: ProposalAccessFacts, b: ProposalBundle, req: Request) => Decision): Policy {
  return definePolicy(description, async (actor, req) => {
    if (!actor) return refuse('common:policy.signInRequired', 401);
    const id = idParam(req.params.id);
    const b = id ? await loadBundle(id) : null;
    if (!b) return refuse('proposals:errors.notFound', 404);
    (req as WithBundle)[BUNDLE] = b;
    return decide(actor, accessFacts(b), b, req);
  });
}

export const mayView = proposalPolicy(
  "people related to the proposal: its PI, its partners' contacts, and after submission the officers of its provinces and its lead institution's office",
  (a, f) => canView(a, f),
);

export const piOnly = proposalPolicy("the proposal's PI", (a, f) => (f.piUserId === a.id ? ALLOW : refuse('proposals:policy.notYours')));

export const piEditsDraft = proposalPolicy("the proposal's PI, while it is a draft", (a, f) => {
  const d = canEdit(a, f);
  if (!d.ok) return d;
  return f.piUserId === a.id ? ALLOW : refuse('proposals:policy.piOnly');
});

/** The contact person of the partner in the URL (not another partner's, not the PI for someone else's partner). */
export const partnerContact = proposalPolicy("the contact person of that partner of the proposal", (a, f, b, req) => {
  const partner = b.partners.find((p) => p.id === idParam(req.params.partnerId));
  if (!partner) return relationsTo(a, f).length ? refuse('proposals:errors.partnerNotFound', 404) : refuse('proposals:policy.notYours');
  return partner.contactUserId === a.id ? ALLOW : refuse('proposals:policy.notYourPartner');
});

export const partnerContactEditsDraft = proposalPolicy("the contact person of that partner, while the proposal is a draft", (a, f, b, req) => {
  const partner = b.partners.find((p) => p.id === idParam(req.params.partnerId));
  if (!partner) return relationsTo(a, f).length ? refuse('proposals:errors.partnerNotFound', 404) : refuse('proposals:policy.notYours');
  if (partner.contactUserId !== a.id) return refuse('proposals:policy.notYourPartner');
  return f.status === 'draft' ? ALLOW : refuse('proposals:policy.notDraft');
});
