/**
 * Calls (指南): the public list and call pages (anonymous visitors read published calls; drafts are a 404 to
 * them), subscriptions to new-call notices, and — mounted first — the officers' editor (edit-routes.ts).
 */
import { Router } from 'express';
import { actorOf, auditContext, type AppContext } from '../platform/context.js';
import { HttpError } from '../platform/errors.js';
import { parseForm } from '../platform/forms.js';
import { can, Forbidden, guard } from '../platform/policy.js';
import { callEditRouter } from './edit-routes.js';
import { canSeeCall } from './policy.js';
import { callListView, callPageView, loadCall } from './presenters.js';
import { isSubscribed, setSubscription } from './service.js';
import { idParam, listQuerySchema, subscriptionSchema } from './schema.js';

export function callRouter(ctx: AppContext): Router {
  const router = Router();
  router.use(callEditRouter(ctx)); // /calls/new before /calls/:id
  const r = guard(router);
  const { sequelize } = ctx;

  r.get('/calls', can.anyone, async (req, res) => {
    const q = listQuerySchema.safeParse(req.query);
    const actor = actorOf(req);
    const list = await callListView(actor, res.locals.lang, new Date(), q.success && q.data.mine === '1');
    res.render('calls/list', { title: 'calls:list.title', list, signedIn: !!actor, subscribed: actor ? await isSubscribed(actor.id) : false });
  });

  r.post('/calls/subscription', can.signedIn, async (req, res) => {
    const form = parseForm(subscriptionSchema, req.body);
    if (!form.ok) throw new HttpError(400, 'common:errors.400.reason');
    const on = form.data.subscribe === '1';
    await setSubscription(sequelize, auditContext(req), actorOf(req)!.id, on);
    res.flash('success', on ? 'calls:flash.subscribed' : 'calls:flash.unsubscribed');
    res.redirect(303, '/calls');
  });

  r.get('/calls/:id', can.anyone, async (req, res) => {
    const id = idParam(req.params.id);
    const d = id ? await loadCall(id) : null;
    if (!d || !canSeeCall(actorOf(req), d.call.status).ok) throw new Forbidden(404, 'common:errors.notFound.reason');
    res.render('calls/show', { title: 'calls:show.title', call: callPageView(d, actorOf(req), res.locals.lang, new Date()) });
  });

  return router;
}
