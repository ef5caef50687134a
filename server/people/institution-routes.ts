/**
 * Institution registry pages: the list any signed-in user can search, create/edit for admins and officers
 * (officers within their province), requests for a missing institution, and the officers' decision queue.
 * Thin routes: policy → validate → command (one transaction, audited) → explicit view model.
 */
import { Router, type Request, type Response } from 'express';
import { actorOf, auditContext, type AppContext } from '../platform/context.js';
import { HttpError } from '../platform/errors.js';
import { parseForm, type FieldErrors } from '../platform/forms.js';
import { Forbidden, guard, hasRole, type Actor } from '../platform/policy.js';
import {
  createInstitution,
  decideRequest,
  findInstitution,
  listProvinces,
  listRequests,
  pagerFor,
  requestInstitution,
  requestsOf,
  searchInstitutions,
  updateInstitution,
  type ProvinceRow,
  type RequestRow,
} from './institution-service.js';
import { idParam, institutionPolicy as can, managedProvinces, mayManageProvince } from './policy.js';
import { INSTITUTION_TYPES } from './rules.js';
import { institutionDecisionSchema, institutionRequestListSchema, institutionSchema, institutionSearchSchema } from './schema.js';

const BAD_QUERY = () => new HttpError(400, 'common:errors.400.reason');

function provinceChoices(provinces: ProvinceRow[], selected: string | undefined, allowed: string[] | null) {
  return provinces.filter((p) => !allowed || allowed.includes(p.code)).map((p) => ({ code: p.code, nameZh: p.nameZh, nameEn: p.nameEn, selected: p.code === selected }));
}
const typeChoices = (selected: string | undefined) => INSTITUTION_TYPES.map((value) => ({ value, selected: value === selected }));

interface FormModel {
  mode: 'new' | 'edit' | 'request';
  id?: number;
  values: Record<string, string>;
  errors: FieldErrors;
}

const FORM_PAGES = {
  new: { view: 'people/institutions/form', title: 'institutions:form.newTitle' },
  edit: { view: 'people/institutions/form', title: 'institutions:form.editTitle' },
  request: { view: 'people/institutions/form', title: 'institutions:request.title' },
} as const;

export function institutionRouter(ctx: AppContext): Router {
  const router = Router();
  const r = guard(router);
  const { sequelize, config } = ctx;

  const renderForm = async (req: Request, res: Response, status: number, m: FormModel) => {
    const actor = actorOf(req)!;
    const page = FORM_PAGES[m.mode];
    // Officers pick among their own provinces; a request may name any province.
    const allowed = m.mode === 'request' ? null : managedProvinces(actor);
    const selectedProvince = m.values.provinceCode;
    const provinces = await listProvinces();
    const choices = provinceChoices(provinces, selectedProvince, allowed);
    // An officer editing an institution moved out of scope by an admin still sees its current province.
    if (allowed && selectedProvince && !choices.some((p) => p.code === selectedProvince)) {
      const current = provinces.find((p) => p.code === selectedProvince);
      if (current) choices.push({ ...current, selected: true });
    }
    res.status(status).render(page.view, {
      title: page.title,
      mode: m.mode,
      action: m.mode === 'new' ? '/institutions' : m.mode === 'edit' ? `/institutions/${m.id}` : '/institutions/request',
      values: m.values,
      errors: m.errors,
      provinces: choices,
      types: typeChoices(m.values.type),
      mine: m.mode === 'request' ? (await requestsOf(sequelize, actor.id)).map(requestView) : [],
    });
  };

  /** Validate the form, then the officer's scope for the chosen province (403 with the reason at the field). */
  const validated = (req: Request) => {
    const form = parseForm(institutionSchema, req.body);
    if (!form.ok) return { ok: false as const, status: 400, values: form.values, errors: form.errors };
    const scope = mayManageProvince(actorOf(req), form.data.provinceCode);
    if (!scope.ok) return { ok: false as const, status: 403, values: stringValues(req.body), errors: { provinceCode: scope.reason } };
    return { ok: true as const, data: form.data };
  };

  // ---- the registry ------------------------------------------------------------------------------

  r.get('/institutions', can.browse, async (req, res) => {
    const q = institutionSearchSchema.safeParse(req.query);
    if (!q.success) throw BAD_QUERY();
    const actor = actorOf(req)!;
    const f = q.data;
    const [{ rows, count }, provinces] = await Promise.all([searchInstitutions(sequelize, f), listProvinces()]);
    res.render('people/institutions/list', {
      title: 'institutions:list.title',
      filters: { q: f.q, province: f.province, type: f.type },
      provinces: provinceChoices(provinces, f.province, null),
      types: typeChoices(f.type),
      rows: rows.map((i) => ({ ...i, canEdit: mayManageProvince(actor, i.provinceCode).ok })),
      canCreate: hasRole(actor, 'admin') || hasRole(actor, 'officer'),
      canReview: hasRole(actor, 'admin') || hasRole(actor, 'officer'),
      pager: pagerFor('/institutions', { q: f.q, province: f.province, type: f.type }, f.page, count),
    });
  });

  r.get('/institutions/new', can.create, (req, res) => renderForm(req, res, 200, { mode: 'new', values: {}, errors: {} }));

  r.post('/institutions', can.create, async (req, res) => {
    const v = validated(req);
    if (!v.ok) return renderForm(req, res, v.status, { mode: 'new', values: v.values, errors: v.errors });
    const result = await createInstitution(sequelize, auditContext(req), v.data);
    if (!result.ok) return renderForm(req, res, 400, { mode: 'new', values: stringValues(req.body), errors: result.errors });
    res.flash('success', 'institutions:form.created');
    res.redirect(303, `/institutions?q=${encodeURIComponent(v.data.creditCode)}`);
  });

  // Declared before /institutions/:id so that "request" is never taken for an id.
  r.get('/institutions/request', can.request, (req, res) => renderForm(req, res, 200, { mode: 'request', values: {}, errors: {} }));

  r.post('/institutions/request', can.request, async (req, res) => {
    const form = parseForm(institutionSchema, req.body);
    if (!form.ok) return renderForm(req, res, 400, { mode: 'request', values: form.values, errors: form.errors });
    const result = await requestInstitution(sequelize, auditContext(req), actorOf(req)!.id, form.data);
    if (!result.ok) return renderForm(req, res, 400, { mode: 'request', values: stringValues(req.body), errors: result.errors });
    res.flash('success', 'institutions:request.submitted');
    res.redirect(303, '/institutions/request');
  });

  r.get('/institutions/:id/edit', can.edit, async (req, res) => {
    const inst = await findInstitution(idParam(req)!);
    if (!inst) throw new Forbidden(404, 'institutions:errors.notFound');
    const values = { nameZh: inst.nameZh, nameEn: inst.nameEn ?? '', provinceCode: inst.provinceCode, type: inst.type, creditCode: inst.creditCode };
    await renderForm(req, res, 200, { mode: 'edit', id: inst.id, values, errors: {} });
  });

  r.post('/institutions/:id', can.edit, async (req, res) => {
    const id = idParam(req)!;
    const v = validated(req);
    if (!v.ok) return renderForm(req, res, v.status, { mode: 'edit', id, values: v.values, errors: v.errors });
    const result = await updateInstitution(sequelize, auditContext(req), id, v.data);
    if (!result.ok) {
      if (result.errors._form) throw new Forbidden(404, result.errors._form);
      return renderForm(req, res, 400, { mode: 'edit', id, values: stringValues(req.body), errors: result.errors });
    }
    res.flash('success', 'institutions:form.updated');
    res.redirect(303, `/institutions?q=${encodeURIComponent(v.data.creditCode)}`);
  });

  // ---- the decision queue ------------------------------------------------------------------------

  const renderQueue = async (req: Request, res: Response, status: number, f: { status: string; page: number }, rowError?: { id: number; reason: string; error: string }) => {
    const actor = actorOf(req) as Actor;
    const { rows, count } = await listRequests(sequelize, { provinces: managedProvinces(actor), status: f.status, page: f.page });
    res.status(status).render('admin/institution-requests', {
      title: 'institutions:requests.title',
      status: f.status,
      statuses: ['pending', 'approved', 'rejected'].map((s) => ({ value: s, selected: s === f.status })),
      scoped: !hasRole(actor, 'admin'),
      rows: rows.map((row) => ({
        ...requestView(row),
        reasonValue: rowError?.id === row.id ? rowError.reason : '',
        reasonError: rowError?.id === row.id ? rowError.error : null,
      })),
      pager: pagerFor('/admin/institution-requests', { status: f.status }, f.page, count),
    });
  };

  r.get('/admin/institution-requests', can.reviewRequests, async (req, res) => {
    const q = institutionRequestListSchema.safeParse(req.query);
    if (!q.success) throw BAD_QUERY();
    await renderQueue(req, res, 200, q.data);
  });

  r.post('/admin/institution-requests/:id/decide', can.decideRequest, async (req, res) => {
    const id = idParam(req)!;
    const form = parseForm(institutionDecisionSchema, req.body);
    if (!form.ok) {
      if (!form.errors.reason) throw BAD_QUERY();
      return renderQueue(req, res, 400, { status: '', page: 1 }, { id, reason: form.values.reason ?? '', error: form.errors.reason });
    }
    const result = await decideRequest(sequelize, auditContext(req), id, form.data, { baseUrl: config.baseUrl });
    if (!result.ok) {
      res.flash('error', result.reason);
      return res.redirect(303, '/admin/institution-requests');
    }
    ctx.kickOutbox();
    res.flash('success', result.outcome === 'approved' ? 'institutions:requests.approved' : 'institutions:requests.rejected');
    res.redirect(303, '/admin/institution-requests');
  });

  return router;
}

/** What was typed, for re-showing a form (strings only, no secrets). */
function stringValues(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['nameZh', 'nameEn', 'provinceCode', 'type', 'creditCode']) {
    const v = (body as Record<string, unknown> | undefined)?.[k];
    if (typeof v === 'string') out[k] = v.slice(0, 500);
  }
  return out;
}

function requestView(r: RequestRow) {
  return {
    id: r.id,
    nameZh: r.nameZh,
    nameEn: r.nameEn,
    provinceZh: r.provinceZh,
    provinceEn: r.provinceEn,
    type: r.type,
    creditCode: r.creditCode,
    status: r.status,
    pending: r.status === 'pending',
    decisionReason: r.decisionReason,
    institutionId: r.institutionId,
    requesterName: r.requesterName,
    requesterEmail: r.requesterEmail,
    deciderName: r.deciderName,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}
