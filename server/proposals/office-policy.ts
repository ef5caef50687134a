/**
 * Who may use the host-institution endorsement and the officers' screening pages, with the reason when not.
 * Both decide from the proposal's access facts through `relationsTo` (proposals/policy.ts), the same answer the
 * proposal page, downloads and exports give: `hostOffice` for the lead institution's research office,
 * `officer` for officers of a province in the consortium once the proposal reaches officers.
 */
import type { Request } from 'express';
import type { Transaction } from 'sequelize';
import { Call } from '../calls/models.js';
import { idParam } from '../people/policy.js';
import { can, definePolicy, refuse, ALLOW, type Actor, type Decision } from '../platform/policy.js';
import { Proposal, ProposalPartner } from './models.js';
import { relationsTo, type ProposalAccessFacts, type ProposalRelation } from './policy.js';

/** The facts `relationsTo` needs, in three small queries; null when the proposal does not exist. */
export async function accessFactsOf(proposalId: number, transaction?: Transaction): Promise<ProposalAccessFacts | null> {
  const p = await Proposal.findByPk(proposalId, { attributes: ['id', 'callId', 'piUserId', 'status', 'leadInstitutionId'], raw: true, transaction });
  if (!p) return null;
  const [call, partners] = await Promise.all([
    Call.findByPk(p.callId, { attributes: ['endorsementRequired'], raw: true, transaction }),
    ProposalPartner.findAll({ where: { proposalId }, attributes: ['provinceCode', 'contactUserId'], raw: true, transaction }),
  ]);
  return {
    piUserId: p.piUserId,
    status: p.status,
    leadInstitutionId: p.leadInstitutionId,
    endorsementRequired: !!call?.endorsementRequired,
    partners: partners.map((x) => ({ provinceCode: x.provinceCode, contactUserId: x.contactUserId })),
  };
}

/** Whether the actor has `relation` to the proposal; a proposal they may not know about is "not found". */
export async function relationDecision(actor: Actor | null, proposalId: number | null, relation: ProposalRelation, otherwise: { status: 403 | 404; reason: string }): Promise<Decision> {
  if (!actor) return refuse('common:policy.signInRequired', 401);
  const facts = proposalId ? await accessFactsOf(proposalId) : null;
  if (!facts) return refuse('screening:errors.notFound', 404);
  return relationsTo(actor, facts).includes(relation) ? ALLOW : refuse(otherwise.reason, otherwise.status);
}

const institutionAdmin = can.role('institution_admin');
const officer = can.role('officer');

export const officePolicy = {
  endorsements: institutionAdmin,
  /** The research office of the proposal's lead institution. */
  endorseProposal: definePolicy("institution admins (research office) of the proposal's lead institution", async (a, req: Request) => {
    const base = await institutionAdmin(a, req);
    if (!base.ok) return base;
    return relationDecision(a, idParam(req), 'hostOffice', { status: 403, reason: 'screening:policy.notYourInstitution' });
  }),
  screening: officer,
  /** Officers of a province in the consortium, once the proposal reaches officers; others get "not found". */
  screenProposal: definePolicy("officers of a province in the proposal's consortium, once it reaches officers", async (a, req: Request) => {
    const base = await officer(a, req);
    if (!base.ok) return base;
    return relationDecision(a, idParam(req), 'officer', { status: 404, reason: 'screening:errors.notFound' });
  }),
};
