/** The home page: a public welcome for visitors, and for a signed-in user one section per role they hold. */
import { Router } from 'express';
import type { AppContext } from '../platform/context.js';
import { actorOf } from '../platform/context.js';
import { can, guard } from '../platform/policy.js';
import { ROLES, type RoleName } from './rules.js';

/** Where each role's work starts; labels are the header's navigation labels. */
const TASKS: Record<RoleName, Array<[href: string, label: string]>> = {
  applicant: [['/calls', 'common:nav.calls'], ['/proposals', 'common:nav.proposals'], ['/institutions/request', 'common:home.tasks.requestInstitution']],
  expert: [['/reviews', 'common:nav.reviews'], ['/expert/profile', 'experts:nav.profile']],
  officer: [['/calls', 'common:nav.calls'], ['/screening', 'common:nav.screening'], ['/experts', 'experts:nav.pool'], ['/integrity', 'integrity:nav.title'], ['/admin/institution-requests', 'common:nav.institutionRequests']],
  institution_admin: [['/endorsements', 'common:nav.endorsements'], ['/institutions', 'common:nav.institutions']],
  admin: [['/admin/users', 'common:admin.users'], ['/admin/audit', 'common:admin.audit'], ['/admin/outbox', 'common:admin.outbox'], ['/institutions', 'common:admin.institutions']],
};

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
      tasks: TASKS[role].map(([href, label]) => ({ href, label })),
    }));
    res.render('home/dashboard', { title: 'common:home.title', name: actor.name, sections });
  });
  return router;
}
