/**
 * Who may see and change a proposal, with the reason when not. Decided from plain facts so the same answer
 * holds for pages, downloads and exports. Reviewers (issue: review) get their own rule there.
 */
import { ALLOW, refuse, officerProvinces, type Actor, type Decision } from '../platform/policy.js';
import { reachesOfficers, type ProposalStatus } from './rules.js';

export interface ProposalAccessFacts {
  piUserId: number;
  status: ProposalStatus;
  leadInstitutionId: number | null;
  endorsementRequired: boolean;
  partners: Array<{ provinceCode: string; contactUserId: number | null }>;
  /** Experts with an accepted review assignment on the proposal (issue: review). Optional: absent = none. */
  reviewerUserIds?: number[];
}

export type ProposalRelation = 'pi' | 'partnerContact' | 'officer' | 'hostOffice' | 'reviewer';

/** Every way the actor is related to the proposal (a person may be several at once). */
export function relationsTo(actor: Actor | null, f: ProposalAccessFacts): ProposalRelation[] {
  if (!actor) return [];
  const r: ProposalRelation[] = [];
  if (f.piUserId === actor.id) r.push('pi');
  if (f.partners.some((p) => p.contactUserId === actor.id)) r.push('partnerContact');
  const provinces = new Set(f.partners.map((p) => p.provinceCode));
  if (reachesOfficers(f.status, f.endorsementRequired) && officerProvinces(actor).some((p) => provinces.has(p))) r.push('officer');
  if (f.status !== 'draft' && f.leadInstitutionId !== null && actor.roles.some((g) => g.role === 'institution_admin' && g.institutionId === f.leadInstitutionId)) r.push('hostOffice');
  // An expert who accepted a review assignment reads the proposal and its attachments (never other reviewers).
  if (f.status !== 'draft' && f.reviewerUserIds?.includes(actor.id) && actor.roles.some((g) => g.role === 'expert')) r.push('reviewer');
  return r;
}

export function canView(actor: Actor | null, f: ProposalAccessFacts): Decision {
  if (!actor) return refuse('common:policy.signInRequired', 401);
  return relationsTo(actor, f).length ? ALLOW : refuse('proposals:policy.notYours', 403);
}

/** The PI edits the draft; partners' contacts edit only their own lines (checked where lines are saved). */
export function canEdit(actor: Actor | null, f: ProposalAccessFacts): Decision {
  if (!actor) return refuse('common:policy.signInRequired', 401);
  const rel = relationsTo(actor, f);
  if (!rel.includes('pi') && !rel.includes('partnerContact')) return refuse('proposals:policy.notYours', 403);
  if (f.status !== 'draft') return refuse('proposals:policy.notDraft', 403);
  return ALLOW;
}
