/** The home page: a public welcome for visitors, and for a signed-in user one section per role they hold. */
import { Router } from 'express';
import type { AppContext } from '../platform/context.js';
import { actorOf } from '../platform/context.js';
import { can, guard } from '../platform/policy.js';
import { ROLES } from './rules.js';

export function homeRouter(_ctx: AppContext): Router {
  void _ctx;
  const router = Router();
  const r = guard(router);
  r.get('/', can.anyone, (req, res) => {
    const actor = actorOf(req);
    if (!actor) return res.render('home/welcome', { title: 'common:home.welcomeTitle' });
    const held = new Set(actor.roles.map((g) => g.role));
    const sections = ROLES.filter((role) => held.has(role)).map((role) => ({
      role,
      scopes: actor.roles.filter((g) => g.role === role && g.provinceCode).map((g) => g.provinceCode!),
    }));
    res.render('home/dashboard', { title: 'common:home.title', name: actor.name, sections });
  });
  return router;
}
