/** Administration of users and roles. */
import { Router } from 'express';
import type { AppContext } from '../platform/context.js';
import { can, guard } from '../platform/policy.js';

export function adminRouter(_ctx: AppContext): Router {
  void _ctx;
  const router = Router();
  const r = guard(router);
  r.get('/admin', can.role('admin'), (_req, res) => res.render('admin/index', { title: 'common:admin.title' }));
  return router;
}
