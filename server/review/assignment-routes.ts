/**
 * Reviewer assignment: the officers' page of a call (proposed assignment with affinities, pins and forbids,
 * re-run, invitations) and the expert's accept/decline actions (redirects back to /reviews with a flash). A
 * refused form (a pin / forbid, a decline) is shown again as typed, with each message next to its field.
 * Applicants never reach any of it: officers of the call's provinces only; experts only their own rows.
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { actorOf, auditContext, type AppContext } from '../platform/context.js';
import { echo, parseForm, type FieldErrors } from '../platform/forms.js';
import { ALLOW, can, definePolicy, Forbidden, guard, officerProvinces, refuse } from '../platform/policy.js';
import { idParam } from '../people/policy.js';
import { assignmentPage } from './assignment-presenters.js';
import { runAssignment } from './assignment-run.js';
import { myAssignments } from './review-service.js';
import { acceptInvitation, addConstraint, callFacts, declineInvitation, removeConstraint, sendInvitations } from './assignment-service.js';

/** Officers of a province that pledged to the call (admins and applicants are refused). */
export const callOfficer = definePolicy("programme officers of a province in the call's pledges", async (actor, req: Request) => {
  if (!actor) return refuse('common:policy.signInRequired', 401);
  const mine = officerProvinces(actor);
  if (!mine.length) return refuse('assignment:policy.officersOnly');
  const id = idParam(req);
  const call = id ? await callFacts(id) : null;
  if (!call) return refuse('assignment:errors.notFound', 404);
  return call.provinces.some((p) => mine.includes(p)) ? ALLOW : refuse('assignment:policy.notYourCall');
});

/** The call of the URL's :id, or a 404. */
export async function callOf(req: Request) {
  const call = await callFacts(idParam(req) ?? 0);
  if (!call) throw new Forbidden(404, 'assignment:errors.notFound');
  return call;
}

const expertOnly = can.role('expert');

const constraintSchema = z.object({
  proposalId: z.coerce.number({ message: 'assignment:form.proposalRequired' }).int({ message: 'assignment:form.proposalRequired' }).positive({ message: 'assignment:form.proposalRequired' }),
  expertUserId: z.coerce.number({ message: 'assignment:form.expertRequired' }).int({ message: 'assignment:form.expertRequired' }).positive({ message: 'assignment:form.expertRequired' }),
  reason: z.string().trim().min(1, { message: 'assignment:form.reasonRequired' }).max(500, { message: 'assignment:form.reasonTooLong' }),
});

const pageQuery = z.object({ page: z.coerce.number().int().min(1).max(100_000).default(1) });

/** A decline's reason is also a declared conflict's reason when the expert ticks it: 500 characters, as that column. */
const declineSchema = z.object({
  reason: z.string().trim().min(1, { message: 'assignment:form.reasonRequired' }).max(500, { message: 'assignment:form.reasonTooLong' }),
  conflict: z.literal('1').optional(),
});

export function assignmentRouter(ctx: AppContext): Router {
  const router = Router();
  const r = guard(router);
  const { sequelize } = ctx;

  const back = (id: number) => `/calls/${id}/assignment`;

  /** The page; after a refused pin / forbid, with the constraint form as typed and each message next to its field. */
  async function renderAssignment(req: Request, res: Response, status = 200, form?: { values: Record<string, string>; errors: FieldErrors }) {
    const call = await callOf(req);
    const q = pageQuery.safeParse(req.query);
    const vm = await assignmentPage(sequelize, call, actorOf(req)!.lang, q.success ? q.data.page : 1);
    const chosen = form?.values.proposalId ?? '';
    const allProposals = vm.allProposals.map((p) => ({ ...p, selected: String(p.id) === chosen }));
    res.status(status).render('review/assignment', { title: 'assignment:page.title', ...vm, allProposals, constraintForm: form ?? { values: {}, errors: {} } });
  }

  r.get('/calls/:id/assignment', callOfficer, (req, res) => renderAssignment(req, res));

  r.post('/calls/:id/assignment/run', callOfficer, async (req, res) => {
    const call = await callOf(req);
    const out = await runAssignment(sequelize, auditContext(req), call.id);
    if (!out.ok) {
      res.flash('error', out.reason);
      return res.redirect(303, back(call.id));
    }
    res.flash('success', 'assignment:flash.ran', { stored: out.stored, full: out.full, shortfalls: out.shortfalls });
    res.redirect(303, back(call.id));
  });

  for (const kind of ['pin', 'forbid'] as const) {
    r.post(`/calls/:id/assignment/${kind}`, callOfficer, async (req, res) => {
      const call = await callOf(req);
      const form = parseForm(constraintSchema, req.body);
      if (!form.ok) return renderAssignment(req, res, 400, form);
      const out = await addConstraint(sequelize, auditContext(req), { callId: call.id, ...form.data, kind });
      if (!out.ok && out.field) return renderAssignment(req, res, out.status, { values: echo(req.body), errors: { [out.field]: out.reason } });
      res.flash(out.ok ? 'success' : 'error', out.ok ? `assignment:flash.${kind}ned` : out.reason);
      res.redirect(303, back(call.id));
    });
  }

  r.post('/calls/:id/assignment/constraints/:constraintId/remove', callOfficer, async (req, res) => {
    const call = await callOf(req);
    const cid = idParam(req, 'constraintId');
    const out = cid ? await removeConstraint(sequelize, auditContext(req), call.id, cid) : { ok: false as const, reason: 'assignment:errors.constraintNotFound' };
    res.flash(out.ok ? 'success' : 'error', out.ok ? 'assignment:flash.removed' : out.reason);
    res.redirect(303, back(call.id));
  });

  r.post('/calls/:id/assignment/invite', callOfficer, async (req, res) => {
    const call = await callOf(req);
    const out = await sendInvitations(sequelize, auditContext(req), call.id, ctx.config.baseUrl);
    if (out.invited) ctx.kickOutbox();
    res.flash(out.invited ? 'success' : 'info', out.invited ? 'assignment:flash.invited' : 'assignment:flash.nothingToInvite', { invited: out.invited, experts: out.experts });
    res.redirect(303, back(call.id));
  });

  // ---- the expert's answers (the buttons are on /reviews) ----
  r.post('/reviews/:assignmentId/accept', expertOnly, async (req, res) => {
    const id = idParam(req, 'assignmentId');
    const out = id ? await acceptInvitation(sequelize, auditContext(req), actorOf(req)!.id, id) : null;
    if (!out || (!out.ok && out.status === 403)) throw new Forbidden(403, 'assignment:errors.notYours');
    res.flash(out.ok ? 'success' : 'error', out.ok ? 'assignment:flash.accepted' : out.reason);
    res.redirect(303, '/reviews');
  });

  r.post('/reviews/:assignmentId/decline', expertOnly, async (req, res) => {
    const id = idParam(req, 'assignmentId');
    if (!id) throw new Forbidden(403, 'assignment:errors.notYours');
    const form = parseForm(declineSchema, req.body);
    if (!form.ok) {
      // The list again, with this invitation's form as typed and the message next to the reason.
      const groups = await myAssignments(actorOf(req)!.id);
      const item = groups.flatMap((g) => g.items).find((i) => i.id === id && i.isInvited);
      if (!item) {
        // Not (or no longer) an open invitation of this expert, e.g. a stale tab: the list says where things stand.
        res.flash('error', 'assignment:errors.notInvited');
        return res.redirect(303, '/reviews');
      }
      item.decline = { reason: form.values.reason ?? '', conflict: form.values.conflict === '1', error: form.errors.reason ?? form.errors.conflict ?? 'common:form.invalid' };
      return res.status(400).render('review/reviews', { title: 'reviews:list.title', groups, empty: false });
    }
    const out = await declineInvitation(sequelize, auditContext(req), actorOf(req)!.id, id, { reason: form.data.reason, conflict: form.data.conflict === '1' });
    if (!out.ok && out.status === 403) throw new Forbidden(403, out.reason);
    res.flash(out.ok ? 'success' : 'error', out.ok ? 'assignment:flash.declined' : out.reason);
    res.redirect(303, '/reviews');
  });

  return router;
}
