/**
 * Partner sign-off (合作单位确认): a partner's contact person sees the proposal, edits their own partner's
 * budget lines and self-funding, and confirms participation and budget. Any later change to those lines
 * (by anyone) resets the confirmation; the PI cannot submit until every partner has confirmed.
 */
import { Router, type Request, type Response } from 'express';
import { actorOf, auditContext, type AppContext } from '../platform/context.js';
import { guard, type Actor } from '../platform/policy.js';
import { bundleOf, idParam, partnerContact, partnerContactEditsDraft } from './access.js';
import { loadBundle } from './bundle.js';
import { summaryView } from './editor-routes.js';
import { budgetGrid, proposalPartials } from './presenters.js';
import { parseBudgetForm } from './schema.js';
import { budgetYears, confirmPartner, loadCallSettings, saveBudget, type Deps } from './service.js';

export function signoffRouter(ctx: AppContext): Router {
  const router = Router();
  const r = guard(router);
  const deps: Deps = { sequelize: ctx.sequelize, baseUrl: ctx.config.baseUrl };

  async function render(req: Request, res: Response, status = 200, typed?: { values: Record<string, string>; errors: Record<string, string> }) {
    const lang = res.locals.lang as string;
    const b = (await loadBundle(bundleOf(req).proposal.id))!;
    const partnerId = idParam(req.params.partnerId)!;
    const call = (await loadCallSettings(b.proposal.callId))!;
    const summary = await summaryView(lang, b, call);
    const partner = summary.partners.find((p) => p.id === partnerId)!;
    const editable = summary.proposal.isDraft && summary.call.open;
    res.status(status).render('proposals/partner', {
      title: 'proposals:partner.title',
      ...summary,
      partner,
      editable,
      grid: budgetGrid(lang, b, call, partnerId, `/proposals/${b.proposal.id}/partner/${partnerId}`, typed),
      confirmAction: `/proposals/${b.proposal.id}/partner/${partnerId}/confirm`,
      partials: proposalPartials(),
    });
  }

  r.get('/proposals/:id/partner/:partnerId', partnerContact, async (req, res) => render(req, res));

  r.post('/proposals/:id/partner/:partnerId', partnerContactEditsDraft, async (req, res) => {
    const b = bundleOf(req);
    const partnerId = idParam(req.params.partnerId)!;
    const call = (await loadCallSettings(b.proposal.callId))!;
    const form = parseBudgetForm(req.body, call.categories, budgetYears(b.proposal.durationMonths, b.lines));
    if (!form.ok) return render(req, res, 400, { values: form.values, errors: form.errors });
    const out = await saveBudget(deps, auditContext(req), b.proposal.id, partnerId, form.data);
    res.flash('success', out.confirmationReset ? 'proposals:partner.savedReset' : 'proposals:editor.saved');
    res.redirect(303, `/proposals/${b.proposal.id}/partner/${partnerId}`);
  });

  r.post('/proposals/:id/partner/:partnerId/confirm', partnerContactEditsDraft, async (req, res) => {
    const b = bundleOf(req);
    const partnerId = idParam(req.params.partnerId)!;
    await confirmPartner(deps, auditContext(req), actorOf(req) as Actor, b.proposal.id, partnerId);
    res.flash('success', 'proposals:partner.confirmed');
    res.redirect(303, `/proposals/${b.proposal.id}/partner/${partnerId}`);
  });

  return router;
}
