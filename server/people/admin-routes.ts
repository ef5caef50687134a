/**
 * Administration of users and roles (admins only): search users, see one with their institution and roles,
 * grant a role with its scope, revoke one, disable or enable the account. Thin routes: policy → validate →
 * command (admin-service, one transaction, audited, target's sessions ended) → redirect with a message.
 */
import { Router, type Request, type Response } from 'express';
import { actorOf, auditContext, type AppContext } from '../platform/context.js';
import { HttpError } from '../platform/errors.js';
import { parseForm, type FieldErrors } from '../platform/forms.js';
import { can, Forbidden, guard, type Actor } from '../platform/policy.js';
import { actorFor } from './auth.js';
import { grantRole, revokeRole, searchUsers, setUserDisabled, userDetail, type AdminResult } from './admin-service.js';
import { institutionOptions, listProvinces, pagerFor } from './institution-service.js';
import { adminPolicy, disableRefusal, idParam, revokeRefusal } from './policy.js';
import { ROLES } from './rules.js';
import { grantSchema, userSearchSchema } from './schema.js';

export function adminRouter(ctx: AppContext): Router {
  const router = Router();
  const r = guard(router);
  const { sequelize } = ctx;

  r.get('/admin', can.role('admin'), (_req, res) => res.render('admin/index', { title: 'common:admin.title' }));

  r.get('/admin/users', adminPolicy.users, async (req, res) => {
    const q = userSearchSchema.safeParse(req.query);
    if (!q.success) throw new HttpError(400, 'common:errors.400.reason');
    const f = q.data;
    const { rows, count } = await searchUsers(sequelize, f);
    res.render('admin/users', {
      title: 'admin:users.title',
      filters: { q: f.q, role: f.role },
      roles: ROLES.map((value) => ({ value, selected: value === f.role })),
      rows,
      pager: pagerFor('/admin/users', { q: f.q, role: f.role }, f.page, count),
    });
  });

  const renderUser = async (req: Request, res: Response, status: number, m: { grantValues?: Record<string, string>; grantErrors?: FieldErrors } = {}) => {
    const actor = actorOf(req) as Actor;
    const user = await userDetail(sequelize, idParam(req)!);
    if (!user) throw new Forbidden(404, 'admin:errors.userNotFound');
    const values = m.grantValues ?? {};
    const provinces = await listProvinces();
    res.status(status).render('admin/user', {
      title: 'admin:user.title',
      user,
      isSelf: user.id === actor.id,
      disableRefusal: disableRefusal(actor.id, user.id),
      roles: user.roles.map((g) => ({ ...g, refusal: revokeRefusal(actor.id, user.id, g.role) })),
      grant: {
        values,
        errors: m.grantErrors ?? {},
        roles: ROLES.map((value) => ({ value, selected: value === values.role })),
        provinces: provinces.map((p) => ({ ...p, selected: p.code === values.provinceCode })),
        institutions: await institutionOptions(res.locals.lang, values.institutionId),
      },
    });
  };

  /** The outcome of a command: refusals with their reason, field errors on the page, else back with a message. */
  const finish = async (req: Request, res: Response, result: AdminResult, done: string, formValues?: Record<string, string>) => {
    if (!result.ok) {
      if ('reason' in result) throw new Forbidden(result.status, result.reason);
      return renderUser(req, res, 400, { grantValues: formValues ?? {}, grantErrors: result.errors });
    }
    const userId = idParam(req)!;
    const actor = actorOf(req) as Actor;
    if (userId === actor.id) {
      // Admins changing their own roles keep this session, refreshed with the new roles.
      const fresh = await actorFor(actor.id);
      if (fresh) (req.session as unknown as { passport: { user: Actor } }).passport.user = fresh;
    }
    res.flash('success', done);
    res.redirect(303, `/admin/users/${userId}`);
  };

  const keepOwnSession = (req: Request) => (idParam(req) === actorOf(req)?.id ? { keepSid: req.sessionID } : {});

  r.get('/admin/users/:id', adminPolicy.users, async (req, res) => {
    if (!idParam(req)) throw new Forbidden(404, 'admin:errors.userNotFound');
    await renderUser(req, res, 200);
  });

  r.post('/admin/users/:id/roles', adminPolicy.grant, async (req, res) => {
    const userId = idParam(req);
    if (!userId) throw new Forbidden(404, 'admin:errors.userNotFound');
    const form = parseForm(grantSchema, req.body);
    if (!form.ok) return renderUser(req, res, 400, { grantValues: form.values, grantErrors: form.errors });
    const result = await grantRole(sequelize, auditContext(req), userId, form.data, keepOwnSession(req));
    await finish(req, res, result, 'admin:user.granted', stringValues(req.body));
  });

  r.post('/admin/users/:id/roles/:roleId/revoke', adminPolicy.revoke, async (req, res) => {
    const result = await revokeRole(sequelize, auditContext(req), idParam(req)!, idParam(req, 'roleId')!, keepOwnSession(req));
    await finish(req, res, result, 'admin:user.revoked');
  });

  r.post('/admin/users/:id/disable', adminPolicy.disable, async (req, res) => {
    await finish(req, res, await setUserDisabled(sequelize, auditContext(req), idParam(req)!, true), 'admin:user.disabled');
  });

  r.post('/admin/users/:id/enable', adminPolicy.users, async (req, res) => {
    const userId = idParam(req);
    if (!userId) throw new Forbidden(404, 'admin:errors.userNotFound');
    await finish(req, res, await setUserDisabled(sequelize, auditContext(req), userId, false), 'admin:user.enabled');
  });

  return router;
}

function stringValues(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['role', 'provinceCode', 'institutionId']) {
    const v = (body as Record<string, unknown> | undefined)?.[k];
    if (typeof v === 'string') out[k] = v.slice(0, 100);
  }
  return out;
}
