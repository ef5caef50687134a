/**
 * The PI's proposal pages: start a draft, my proposals, the read (printable) view, and the multi-step editor
 * (basic, consortium, budget, attachments, exclusions, submit), each step saving the draft. Attachments and
 * the partners' sign-off pages are mounted from their own files. Routes are thin: policy → validate →
 * command (one transaction, audited) → explicit view model.
 */
import { randomBytes } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { Op } from 'sequelize';
import { User } from '../people/models.js';
import { institutionOptions } from '../people/institution-service.js';
import { actorOf, auditContext, type AppContext } from '../platform/context.js';
import { echo, parseForm, type FieldErrors } from '../platform/forms.js';
import { can, guard, type Actor } from '../platform/policy.js';
import { attachmentRouter } from './attachments.js';
import { bundleOf, idParam, mayView, piEditsDraft, piOnly } from './access.js';
import { loadBundle, type ProposalBundle } from './bundle.js';
import { relationsTo } from './policy.js';
import { accessFacts } from './bundle.js';
import {
  attachmentsView,
  budgetGrid,
  callView,
  checklistView,
  editorFrame,
  exclusionsForm,
  kindsView,
  partnersView,
  proposalHeader,
  proposalPartials,
  topicsView,
  totalsView,
} from './presenters.js';
import { EDITOR_STEPS, type EditorStep } from './rules.js';
import { basicSchema, exclusionsSchema, leadSchema, parseBudgetForm, partnerSchema, submitSchema } from './schema.js';
import { addPartner, budgetYears, evaluate, loadCallSettings, myProposals, removePartner, saveBasic, saveBudget, saveExclusions, setLead, startDraft, type CallSettings, type Deps } from './service.js';
import { signoffRouter } from './signoff-routes.js';
import { submitProposal, withdrawProposal } from './submission.js';

export interface StepState {
  values?: Record<string, string>;
  errors?: FieldErrors;
  /** Budget form of one partner re-shown with what was typed. */
  budgetPartnerId?: number;
  formError?: string;
  /** An already translated message (it carries values, e.g. a size limit). */
  formMessage?: string;
}

async function contactsOf(b: ProposalBundle) {
  const ids = [...new Set([b.proposal.piUserId, ...b.partners.map((p) => p.contactUserId).filter((x): x is number => x !== null)])];
  const users = await User.findAll({ where: { id: { [Op.in]: ids } }, attributes: ['id', 'name', 'email'] });
  return new Map(users.map((u) => [u.id, { name: u.name, email: u.email }]));
}

/** Everything the read view and the partner page show about a proposal. */
export async function summaryView(lang: string, b: ProposalBundle, call: CallSettings) {
  const ev = await evaluate(b, call);
  const contacts = await contactsOf(b);
  const topic = call.topics.find((x) => x.id === b.proposal.topicId);
  return {
    proposal: { ...proposalHeader(b), abstract: b.proposal.abstract, keywords: b.proposal.keywords, disciplineCode: b.proposal.disciplineCode, durationMonths: b.proposal.durationMonths },
    pi: contacts.get(b.proposal.piUserId) ?? null,
    topic: topic ? `${topic.code} ${lang === 'en' && topic.titleEn ? topic.titleEn : topic.titleZh}` : null,
    call: callView(lang, call),
    partners: partnersView(lang, b, contacts),
    totals: totalsView(lang, b, call, ev.totals),
    attachments: attachmentsView(lang, b, call),
    exclusions: b.exclusions,
    ev,
  };
}

export function proposalEditorRouter(ctx: AppContext): Router {
  const router = Router();
  const r = guard(router);
  const deps: Deps = { sequelize: ctx.sequelize, baseUrl: ctx.config.baseUrl };
  const me = (req: Request) => actorOf(req) as Actor;

  async function renderStep(req: Request, res: Response, step: EditorStep, status = 200, s: StepState = {}) {
    const lang = res.locals.lang as string;
    // A GET shows what the policy just read; after a command (POST) the proposal may have changed: read it again.
    const b = req.method === 'GET' ? bundleOf(req) : (await loadBundle(bundleOf(req).proposal.id))!;
    const call = (await loadCallSettings(b.proposal.callId))!;
    const ev = await evaluate(b, call);
    const vm: Record<string, unknown> = { ...editorFrame(lang, b, call, ev, step), errors: s.errors ?? {}, formError: s.formError, formMessage: s.formMessage, partials: proposalPartials() };
    const p = b.proposal;
    if (step === 'basic') {
      vm.values = s.values ?? { title: p.title, titleEn: p.titleEn ?? '', abstract: p.abstract ?? '', keywords: p.keywords ?? '', disciplineCode: p.disciplineCode ?? '', durationMonths: p.durationMonths ?? '' };
      vm.topics = topicsView(lang, call, s.values ? (s.values.topicId ?? null) : p.topicId);
    } else if (step === 'consortium') {
      vm.partners = partnersView(lang, b, await contactsOf(b));
      vm.hasLead = p.leadInstitutionId !== null;
      vm.values = s.values ?? {};
      vm.institutions = await institutionOptions(lang, s.values?.institutionId ?? null);
      if (p.leadInstitutionId === null) vm.leadInstitutions = await institutionOptions(lang, s.values?.leadInstitutionId ?? null);
      vm.minProvinces = call.rules.minProvinces;
    } else if (step === 'budget') {
      vm.grids = b.partners.map((x) =>
        budgetGrid(lang, b, call, x.id, `/proposals/${p.id}/edit/budget`, s.budgetPartnerId === x.id && s.values ? { values: s.values, errors: s.errors ?? {} } : undefined),
      );
      vm.totals = totalsView(lang, b, call, ev.totals);
      vm.noDuration = p.durationMonths === null;
    } else if (step === 'attachments') {
      vm.attachments = attachmentsView(lang, b, call);
      vm.kinds = kindsView(lang, call, b, s.values?.kind);
      vm.uploadAction = `/proposals/${p.id}/attachments`;
    } else if (step === 'exclusions') {
      vm.rows = exclusionsForm(b, s.values);
    } else {
      vm.fullChecklist = checklistView(lang, p.id, call, ev.items);
      vm.idempotencyKey = randomBytes(24).toString('base64url');
      vm.history = b.submissions;
      vm.canWithdraw = (p.status === 'submitted' || p.status === 'endorsed') && callView(lang, call).open;
    }
    res.status(status).render(`proposals/edit-${step}`, vm);
  }

  r.post('/calls/:id/proposals', can.signedIn, async (req, res) => {
    const callId = idParam(req.params.id);
    if (!callId) return res.status(404).render('errors/error', { title: 'common:errors.notFound.title', reason: 'proposals:errors.callNotFound', status: 404 });
    const id = await startDraft(deps, auditContext(req), me(req), callId);
    res.flash('success', 'proposals:editor.started');
    res.redirect(303, `/proposals/${id}/edit/basic`);
  });

  r.get('/proposals', can.signedIn, async (req, res) => {
    const rows = await myProposals(me(req).id);
    res.render('proposals/list', { title: 'proposals:list.title', asPi: rows.filter((x) => x.isPi), asPartner: rows.filter((x) => !x.isPi) });
  });

  r.get('/proposals/:id', mayView, async (req, res) => {
    const lang = res.locals.lang as string;
    const b = bundleOf(req);
    const call = (await loadCallSettings(b.proposal.callId))!;
    const rel = relationsTo(me(req), accessFacts(b));
    const summary = await summaryView(lang, b, call);
    // The applicant's reviewer exclusions are for officers and the consortium, never for a reviewer.
    if (rel.every((x) => x === 'reviewer')) summary.exclusions = [];
    const myPartner = b.partners.find((x) => x.contactUserId === me(req).id && !x.isLead);
    res.render('proposals/show', {
      title: 'proposals:show.title',
      ...summary,
      history: b.submissions,
      isPi: rel.includes('pi'),
      myPartnerId: myPartner?.id ?? null,
      partials: proposalPartials(),
    });
  });

  r.get('/proposals/:id/edit', piOnly, async (req, res) => {
    const b = bundleOf(req);
    const call = (await loadCallSettings(b.proposal.callId))!;
    const ev = await evaluate(b, call);
    const first = b.proposal.status === 'draft' ? (ev.failures[0]?.step ?? 'submit') : 'submit';
    res.redirect(303, `/proposals/${b.proposal.id}/edit/${first}`);
  });

  r.get('/proposals/:id/edit/:step', piOnly, async (req, res) => {
    const step = String(req.params.step) as EditorStep;
    if (!EDITOR_STEPS.includes(step)) return res.status(404).render('errors/error', { title: 'common:errors.notFound.title', reason: 'common:errors.notFound.reason', status: 404 });
    await renderStep(req, res, step);
  });

  r.post('/proposals/:id/edit/basic', piEditsDraft, async (req, res) => {
    const form = parseForm(basicSchema, req.body);
    if (!form.ok) return renderStep(req, res, 'basic', 400, { values: form.values, errors: form.errors });
    const errors = await saveBasic(deps, auditContext(req), bundleOf(req).proposal.id, form.data);
    if (errors) return renderStep(req, res, 'basic', 400, { values: echo(req.body), errors });
    res.flash('success', 'proposals:editor.saved');
    res.redirect(303, `/proposals/${bundleOf(req).proposal.id}/edit/${req.body?.next === 'stay' ? 'basic' : 'consortium'}`);
  });

  r.post('/proposals/:id/edit/consortium/lead', piEditsDraft, async (req, res) => {
    const form = parseForm(leadSchema, req.body);
    const fail = (errors: FieldErrors) => renderStep(req, res, 'consortium', 400, { values: echo(req.body), errors });
    if (!form.ok) return fail(form.errors);
    const errors = await setLead(deps, auditContext(req), me(req), bundleOf(req).proposal.id, form.data.leadInstitutionId);
    if (errors) return fail(errors);
    res.flash('success', 'proposals:editor.saved');
    res.redirect(303, `/proposals/${bundleOf(req).proposal.id}/edit/consortium`);
  });

  r.post('/proposals/:id/edit/consortium', piEditsDraft, async (req, res) => {
    const form = parseForm(partnerSchema, req.body);
    if (!form.ok) return renderStep(req, res, 'consortium', 400, { values: form.values, errors: form.errors });
    const errors = await addPartner(deps, auditContext(req), me(req), bundleOf(req).proposal.id, form.data);
    if (errors) return renderStep(req, res, 'consortium', 400, { values: echo(req.body), errors });
    ctx.kickOutbox();
    res.flash('success', 'proposals:consortium.added');
    res.redirect(303, `/proposals/${bundleOf(req).proposal.id}/edit/consortium`);
  });

  r.post('/proposals/:id/partners/:partnerId/remove', piEditsDraft, async (req, res) => {
    const partnerId = idParam(req.params.partnerId);
    const b = bundleOf(req);
    if (!partnerId || !b.partners.some((x) => x.id === partnerId)) return res.status(404).render('errors/error', { title: 'common:errors.notFound.title', reason: 'proposals:errors.partnerNotFound', status: 404 });
    await removePartner(deps, auditContext(req), b.proposal.id, partnerId);
    res.flash('success', 'proposals:consortium.removed');
    res.redirect(303, `/proposals/${b.proposal.id}/edit/consortium`);
  });

  r.post('/proposals/:id/edit/budget', piEditsDraft, async (req, res) => {
    const b = bundleOf(req);
    const partnerId = idParam(req.body?.partnerId);
    if (!partnerId || !b.partners.some((x) => x.id === partnerId)) return res.status(404).render('errors/error', { title: 'common:errors.notFound.title', reason: 'proposals:errors.partnerNotFound', status: 404 });
    const call = (await loadCallSettings(b.proposal.callId))!;
    const form = parseBudgetForm(req.body, call.categories, budgetYears(b.proposal.durationMonths, b.lines));
    if (!form.ok) return renderStep(req, res, 'budget', 400, { values: form.values, errors: form.errors, budgetPartnerId: partnerId });
    const r2 = await saveBudget(deps, auditContext(req), b.proposal.id, partnerId, form.data);
    res.flash('success', r2.confirmationReset ? 'proposals:budget.savedReset' : 'proposals:editor.saved');
    res.redirect(303, `/proposals/${b.proposal.id}/edit/budget#partner-${partnerId}`);
  });

  r.post('/proposals/:id/edit/exclusions', piEditsDraft, async (req, res) => {
    const form = parseForm(exclusionsSchema, req.body);
    if (!form.ok) return renderStep(req, res, 'exclusions', 400, { values: form.values, errors: form.errors });
    await saveExclusions(deps, auditContext(req), bundleOf(req).proposal.id, form.data);
    res.flash('success', 'proposals:editor.saved');
    res.redirect(303, `/proposals/${bundleOf(req).proposal.id}/edit/submit`);
  });

  r.post('/proposals/:id/submit', piOnly, async (req, res) => {
    const id = bundleOf(req).proposal.id;
    const form = parseForm(submitSchema, req.body);
    if (!form.ok) return renderStep(req, res, 'submit', 400, { formError: 'proposals:submit.errors.key' });
    const out = await submitProposal(deps, auditContext(req), me(req), id, form.data.idempotencyKey, undefined, bundleOf(req));
    if (out.kind === 'incomplete') return renderStep(req, res, 'submit', 400, { formError: 'proposals:submit.incomplete' });
    if (out.kind === 'submitted') ctx.kickOutbox();
    if (out.kind === 'submitted' || out.kind === 'same') res.flash('success', 'proposals:submit.done', { receiptNo: out.receiptNo });
    else if (out.kind === 'already') res.flash('info', 'proposals:submit.already', { receiptNo: out.receiptNo ?? '' });
    else res.flash('warning', 'proposals:submit.stale');
    res.redirect(303, `/proposals/${id}/edit/submit`);
  });

  r.post('/proposals/:id/withdraw', piOnly, async (req, res) => {
    const id = bundleOf(req).proposal.id;
    await withdrawProposal(deps, auditContext(req), me(req), id);
    res.flash('success', 'proposals:withdraw.done');
    res.redirect(303, `/proposals/${id}/edit/submit`);
  });

  router.use(attachmentRouter(ctx, renderStep));
  router.use(signoffRouter(ctx));
  return router;
}
