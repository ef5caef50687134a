/**
 * Officers' and admins' side of calls: create a draft, edit its settings and lists, enter a province's pledge,
 * move the call through its lifecycle, extend a published deadline. Thin handlers: policy → validate →
 * command (one transaction with its audit event) → redirect, or the editor again with errors next to fields.
 */
import { Router, type Request, type Response } from 'express';
import type { z } from 'zod';
import { actorOf, auditContext, type AppContext } from '../platform/context.js';
import { HttpError } from '../platform/errors.js';
import { echo, parseForm } from '../platform/forms.js';
import { Forbidden, guard } from '../platform/policy.js';
import { FILE_TYPES } from './rules.js';
import { INSTITUTION_TYPES } from '../people/rules.js';
import { canManageCalls, canPledgeForProvince } from './policy.js';
import { loadCall } from './presenters.js';
import { editorView, newEditorView, type EditorForms } from './editor-presenter.js';
import { createCall, currentPublishProblems, extendDeadline, transitionCall, updateCallSettings, type Outcome } from './service.js';
import { addCategory, addCriterion, addKind, addTopic, removeCategory, removeCriterion, removeKind, removeTopic, setPledge, updateTopic } from './rows-service.js';
import {
  callSettingsSchema,
  categorySchema,
  checkedOf,
  criterionSchema,
  extendDeadlineSchema,
  idParam,
  kindSchema,
  pledgeSchema,
  topicSchema,
  transitionSchema,
} from './schema.js';

const notFound = () => new Forbidden(404, 'common:errors.notFound.reason');

function callId(req: Request): number {
  const id = idParam(req.params.id);
  if (!id) throw notFound();
  return id;
}

function codeParam(raw: unknown): string {
  if (typeof raw !== 'string' || !/^[A-Za-z0-9._-]{1,32}$/.test(raw)) throw notFound();
  return raw;
}

export function callEditRouter(ctx: AppContext): Router {
  const router = Router();
  const r = guard(router);
  const { sequelize } = ctx;

  const renderNew = async (res: Response, status: number, forms: EditorForms) =>
    res.status(status).render('calls/edit', { title: 'calls:editor.newTitle', editor: await newEditorView(forms) });

  const renderEdit = async (req: Request, res: Response, id: number, status: number, forms: EditorForms) => {
    const d = await loadCall(id);
    if (!d) throw notFound();
    const problems = forms.problems ?? (d.call.status === 'draft' ? await currentPublishProblems(id, d.call, new Date()) : []);
    const editor = await editorView(d, actorOf(req)!, res.locals.lang, { ...forms, problems });
    res.status(status).render('calls/edit', { title: 'calls:editor.title', editor, failedPublish: !!forms.problems });
  };

  /** Validate a small form; on failure show the editor again with that form's errors (400). */
  const small =
    <S extends z.ZodType>(schema: S, formName: keyof EditorForms, anchor: string, run: (req: Request, id: number, data: z.output<S>) => Promise<Outcome>, checkedField?: [string, readonly string[]]) =>
    async (req: Request, res: Response) => {
      const id = callId(req);
      const form = parseForm(schema, req.body);
      const checked = checkedField ? checkedOf(req.body?.[checkedField[0]], checkedField[1]) : undefined;
      if (!form.ok) return renderEdit(req, res, id, 400, { [formName]: { values: form.values, errors: form.errors, checked } });
      const out = await run(req, id, form.data);
      if (!out.ok) return renderEdit(req, res, id, 400, { [formName]: { values: echo(req.body), errors: out.errors, checked } });
      res.flash('success', 'calls:flash.saved');
      res.redirect(303, `/calls/${id}/edit#${anchor}`);
    };

  r.get('/calls/new', canManageCalls, (_req, res) => renderNew(res, 200, {}));

  r.post('/calls', canManageCalls, async (req, res) => {
    const form = parseForm(callSettingsSchema, req.body);
    const checked = checkedOf(req.body?.leadInstitutionTypes, INSTITUTION_TYPES);
    if (!form.ok) return renderNew(res, 400, { settings: { values: form.values, errors: form.errors, checked } });
    const out = await createCall(sequelize, auditContext(req), actorOf(req)!, form.data);
    if (!out.ok) return renderNew(res, 400, { settings: { values: echo(req.body), errors: out.errors, checked } });
    res.flash('success', 'calls:flash.created');
    res.redirect(303, `/calls/${out.value}/edit`);
  });

  r.get('/calls/:id/edit', canManageCalls, (req, res) => renderEdit(req, res, callId(req), 200, {}));

  r.post('/calls/:id/settings', canManageCalls, async (req, res) => {
    const id = callId(req);
    const form = parseForm(callSettingsSchema, req.body);
    const checked = checkedOf(req.body?.leadInstitutionTypes, INSTITUTION_TYPES);
    if (!form.ok) return renderEdit(req, res, id, 400, { settings: { values: form.values, errors: form.errors, checked } });
    const out = await updateCallSettings(sequelize, auditContext(req), actorOf(req)!, id, form.data);
    if (!out.ok) return renderEdit(req, res, id, 400, { settings: { values: echo(req.body), errors: out.errors, checked } });
    res.flash('success', 'calls:flash.saved');
    res.redirect(303, `/calls/${id}/edit`);
  });

  // ---- topics, criteria, budget categories, attachment kinds (draft only) ----
  r.post('/calls/:id/topics', canManageCalls, small(topicSchema, 'topic', 'topics', (req, id, v) => addTopic(sequelize, auditContext(req), actorOf(req)!, id, v)));

  r.post('/calls/:id/topics/:topicId', canManageCalls, async (req, res) => {
    const id = callId(req);
    const topicId = idParam(req.params.topicId);
    if (!topicId) throw notFound();
    const form = parseForm(topicSchema, req.body);
    if (!form.ok) return renderEdit(req, res, id, 400, { topicEdit: { id: topicId, values: form.values, errors: form.errors } });
    const out = await updateTopic(sequelize, auditContext(req), actorOf(req)!, id, topicId, form.data);
    if (!out.ok) return renderEdit(req, res, id, 400, { topicEdit: { id: topicId, values: echo(req.body), errors: out.errors } });
    res.flash('success', 'calls:flash.saved');
    res.redirect(303, `/calls/${id}/edit#topics`);
  });

  r.post('/calls/:id/topics/:topicId/remove', canManageCalls, async (req, res) => {
    const id = callId(req);
    const topicId = idParam(req.params.topicId);
    if (!topicId) throw notFound();
    await removeTopic(sequelize, auditContext(req), actorOf(req)!, id, topicId);
    res.flash('success', 'calls:flash.removed');
    res.redirect(303, `/calls/${id}/edit#topics`);
  });

  r.post('/calls/:id/criteria', canManageCalls, small(criterionSchema, 'criterion', 'criteria', (req, id, v) => addCriterion(sequelize, auditContext(req), actorOf(req)!, id, v)));

  r.post('/calls/:id/criteria/:criterionId/remove', canManageCalls, async (req, res) => {
    const id = callId(req);
    const criterionId = idParam(req.params.criterionId);
    if (!criterionId) throw notFound();
    await removeCriterion(sequelize, auditContext(req), actorOf(req)!, id, criterionId);
    res.flash('success', 'calls:flash.removed');
    res.redirect(303, `/calls/${id}/edit#criteria`);
  });

  r.post('/calls/:id/categories', canManageCalls, small(categorySchema, 'category', 'categories', (req, id, v) => addCategory(sequelize, auditContext(req), actorOf(req)!, id, v)));
  r.post('/calls/:id/attachment-kinds', canManageCalls, small(kindSchema, 'kind', 'kinds', (req, id, v) => addKind(sequelize, auditContext(req), actorOf(req)!, id, v), ['kindTypes', FILE_TYPES]));

  const removeFromList = (run: typeof removeCategory, anchor: string) => async (req: Request, res: Response) => {
    const id = callId(req);
    const out = await run(sequelize, auditContext(req), actorOf(req)!, id, codeParam(req.params.code));
    if (!out.ok) res.flash('error', Object.values(out.errors)[0]!);
    else res.flash('success', 'calls:flash.removed');
    res.redirect(303, `/calls/${id}/edit#${anchor}`);
  };
  r.post('/calls/:id/categories/:code/remove', canManageCalls, removeFromList(removeCategory, 'categories'));
  r.post('/calls/:id/attachment-kinds/:code/remove', canManageCalls, removeFromList(removeKind, 'kinds'));

  // ---- pledges: the province is the one in the URL, and only its officers pass the policy ----
  r.post('/calls/:id/pledges/:province', canPledgeForProvince, async (req, res) => {
    const id = callId(req);
    const province = String(req.params.province);
    const form = parseForm(pledgeSchema, req.body);
    if (!form.ok) return renderEdit(req, res, id, 400, { pledge: { province, values: form.values, errors: form.errors } });
    const out = await setPledge(sequelize, auditContext(req), actorOf(req)!, id, province, form.data.amountYuan);
    if (!out.ok) return renderEdit(req, res, id, 400, { pledge: { province, values: { amountYuan: String(req.body?.amountYuan ?? '') }, errors: out.errors } });
    res.flash('success', 'calls:flash.pledgeSaved');
    res.redirect(303, `/calls/${id}/edit#pledges`);
  });

  // ---- lifecycle and deadline ----
  r.post('/calls/:id/transition', canManageCalls, async (req, res) => {
    const id = callId(req);
    const form = parseForm(transitionSchema, req.body);
    if (!form.ok) throw new HttpError(400, 'common:errors.400.reason');
    const out = await transitionCall(sequelize, auditContext(req), actorOf(req)!, id, form.data.to, ctx.config.baseUrl);
    if (!out.ok) return renderEdit(req, res, id, 409, { problems: out.problems });
    if (out.mails) ctx.kickOutbox();
    res.flash('success', `calls:flash.moved.${form.data.to}`);
    res.redirect(303, `/calls/${id}/edit`);
  });

  r.post('/calls/:id/deadline', canManageCalls, async (req, res) => {
    const id = callId(req);
    const form = parseForm(extendDeadlineSchema, req.body);
    if (!form.ok) return renderEdit(req, res, id, 400, { deadline: { values: form.values, errors: form.errors } });
    const out = await extendDeadline(sequelize, auditContext(req), actorOf(req)!, id, form.data);
    if (!out.ok) return renderEdit(req, res, id, 400, { deadline: { values: echo(req.body), errors: out.errors } });
    res.flash('success', 'calls:flash.deadlineExtended');
    res.redirect(303, `/calls/${id}/edit#deadline`);
  });

  return router;
}
