/**
 * Integrity sanction pages (科研失信记录): the shared list, a sanction with its history, recording, correcting
 * and lifting. Thin routes: policy → validate → command (service: one transaction, audited) → explicit view model.
 */
import { Router, type Request, type Response } from 'express';
import { actorOf, auditContext, type AppContext } from '../platform/context.js';
import { HttpError } from '../platform/errors.js';
import { echo, parseForm, type FieldErrors } from '../platform/forms.js';
import { Forbidden, guard, officerProvinces } from '../platform/policy.js';
import { idParam } from '../people/policy.js';
import { listProvinces, pagerFor } from '../people/institution-service.js';
import { editSanction, integrityPolicy } from './policy.js';
import { lastDayOf, shanghaiDay, SUBJECT_TYPES } from './rules.js';
import { sanctionCreateSchema, sanctionEditSchema, sanctionLiftSchema, sanctionSearchSchema } from './schema.js';
import { createSanction, editRefusal, liftSanction, sanctionDetail, searchSanctions, updateSanction, type SanctionResult } from './service.js';

const STATES = ['active', 'upcoming', 'ended', 'lifted'] as const;

export function integrityRouter(ctx: AppContext): Router {
  const router = Router();
  const r = guard(router);
  const { sequelize } = ctx;

  r.get('/integrity', integrityPolicy.view, async (req, res) => {
    const q = sanctionSearchSchema.safeParse(req.query);
    if (!q.success) throw new HttpError(400, 'common:errors.400.reason');
    const f = q.data;
    const { rows, count } = await searchSanctions(f);
    const provinces = await listProvinces();
    res.render('integrity/list', {
      title: 'integrity:list.title',
      canCreate: officerProvinces(actorOf(req)).length > 0,
      filters: { q: f.q },
      provinces: provinces.map((p) => ({ code: p.code, nameZh: p.nameZh, nameEn: p.nameEn, selected: p.code === f.province })),
      states: STATES.map((value) => ({ value, selected: value === f.state })),
      rows,
      pager: pagerFor('/integrity', { q: f.q, province: f.province, state: f.state }, f.page, count),
    });
  });

  const renderForm = async (req: Request, res: Response, status: number, m: { id?: number; values: Record<string, string>; errors: FieldErrors; subject?: Record<string, unknown> }) => {
    const mine = officerProvinces(actorOf(req));
    const provinces = (await listProvinces()).filter((p) => mine.includes(p.code));
    res.status(status).render('integrity/form', {
      title: m.id ? 'integrity:form.editTitle' : 'integrity:form.newTitle',
      editing: !!m.id,
      action: m.id ? `/integrity/${m.id}` : '/integrity',
      cancel: m.id ? `/integrity/${m.id}` : '/integrity',
      values: m.values,
      errors: m.errors,
      subject: m.subject ?? null,
      subjectTypes: SUBJECT_TYPES.map((value) => ({ value, checked: value === (m.values.subjectType || 'person') })),
      provinces: provinces.map((p) => ({ code: p.code, nameZh: p.nameZh, nameEn: p.nameEn, selected: p.code === m.values.provinceCode })),
    });
  };

  r.get('/integrity/new', integrityPolicy.create, (req, res) => renderForm(req, res, 200, { values: { subjectType: 'person', provinceCode: officerProvinces(actorOf(req))[0] ?? '' }, errors: {} }));

  r.post('/integrity', integrityPolicy.create, async (req, res) => {
    const form = parseForm(sanctionCreateSchema, req.body);
    if (!form.ok) return renderForm(req, res, 400, { values: form.values, errors: form.errors });
    const result = await createSanction(sequelize, auditContext(req), actorOf(req)!, form.data);
    if (!result.ok) {
      if ('reason' in result) throw new Forbidden(result.status, result.reason);
      return renderForm(req, res, 400, { values: echo(req.body), errors: result.errors });
    }
    res.flash('success', 'integrity:form.created');
    res.redirect(303, `/integrity/${result.id}`);
  });

  const renderShow = async (req: Request, res: Response, status: number, m: { liftValues?: Record<string, string>; liftErrors?: FieldErrors } = {}) => {
    const id = idParam(req);
    const s = id ? await sanctionDetail(id) : null;
    if (!s) throw new Forbidden(404, 'integrity:errors.notFound');
    const refusal = editRefusal(actorOf(req), s.provinceCode);
    res.status(status).render('integrity/show', {
      title: 'integrity:show.title',
      s,
      canEdit: !refusal && !s.liftedAt,
      canLift: !refusal && (s.state === 'active' || s.state === 'upcoming'),
      editRefusal: refusal,
      liftValues: m.liftValues ?? {},
      liftErrors: m.liftErrors ?? {},
    });
  };

  r.get('/integrity/:id', integrityPolicy.view, (req, res) => renderShow(req, res, 200));

  const editValues = async (id: number) => {
    const s = await sanctionDetail(id);
    if (!s) throw new Forbidden(404, 'integrity:errors.notFound');
    return {
      subject: { subjectType: s.subjectType, subjectName: s.subjectName, subjectEmail: s.subjectEmail, subjectCreditCode: s.subjectCreditCode, provinceCode: s.provinceCode },
      values: { reason: s.reason, legalBasis: s.legalBasis, startDay: shanghaiDay(s.startsAt), lastDay: s.endsAt ? lastDayOf(s.endsAt) : '', changeReason: '' },
    };
  };

  r.get('/integrity/:id/edit', editSanction, async (req, res) => {
    const id = idParam(req)!;
    const { subject, values } = await editValues(id);
    await renderForm(req, res, 200, { id, values, errors: {}, subject });
  });

  const finish = (res: Response, result: SanctionResult, done: string) => {
    if (!result.ok) {
      if ('reason' in result) throw new Forbidden(result.status, result.reason);
      return false;
    }
    res.flash('success', done);
    res.redirect(303, `/integrity/${result.id}`);
    return true;
  };

  r.post('/integrity/:id', editSanction, async (req, res) => {
    const id = idParam(req)!;
    const form = parseForm(sanctionEditSchema, req.body);
    const { subject } = await editValues(id);
    if (!form.ok) return renderForm(req, res, 400, { id, values: form.values, errors: form.errors, subject });
    const result = await updateSanction(sequelize, auditContext(req), actorOf(req)!, id, form.data);
    if (!finish(res, result, 'integrity:form.updated')) await renderForm(req, res, 400, { id, values: echo(req.body), errors: (result as { errors: FieldErrors }).errors, subject });
  });

  r.post('/integrity/:id/lift', editSanction, async (req, res) => {
    const form = parseForm(sanctionLiftSchema, req.body);
    if (!form.ok) return renderShow(req, res, 400, { liftValues: form.values, liftErrors: form.errors });
    const result = await liftSanction(sequelize, auditContext(req), actorOf(req)!, idParam(req)!, form.data.liftReason);
    if (!finish(res, result, 'integrity:show.lifted')) await renderShow(req, res, 400, { liftValues: echo(req.body), liftErrors: (result as { errors: FieldErrors }).errors });
  });

  return router;
}
