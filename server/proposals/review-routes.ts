/**
 * The offices' side of proposals: the host institution's endorsement queue (依托单位审核, /endorsements) and
 * the officers' screening (形式审查, /screening) with its exports. Thin handlers: policy → validate → command
 * in one transaction (service) → explicit view model → render.
 */
import { Router, type Request, type Response } from 'express';
import { idParam } from '../people/policy.js';
import { INSTITUTION_TYPES } from '../people/rules.js';
import { actorOf, auditContext, type AppContext } from '../platform/context.js';
import { parseForm, type FieldErrors } from '../platform/forms.js';
import { pager } from '../platform/mail/routes.js';
import { guard, officerProvinces } from '../platform/policy.js';
import { shanghaiDay } from '../platform/time.js';
import { adminInstitutions, decideEndorsement, endorsementQueue, ENDORSEMENT_PAGE_SIZE, type CommandResult } from './endorsement-service.js';
import { buildWorkbook, exportBuffer, EXPORT_ROW_LIMIT, EXPORT_TYPES, type ExportFormat } from './exports.js';
import { endorsementRowView, filterValues, proposalSummary, queryString, screeningRowView, sortLinks } from './office-presenters.js';
import { officePolicy } from './office-policy.js';
import { decisionSchema, endorsementQuery, returnSchema, screeningQuery, type ScreeningQuery } from './office-schema.js';
import { DEFAULT_FILTERS, SCREENING_PAGE_SIZE, SCREENING_STATUSES, screeningPage, screeningRows, type ScreeningFilters } from './screening-query.js';
import { awaitsScreening } from './screening-rules.js';
import { auditScreeningExport, callScopes, decideScreening, latestSubmission, provinceCodes, screeningReport, userName } from './screening-service.js';

function filtersOf(q: ScreeningQuery): ScreeningFilters {
  return { callId: q.call, status: q.status, province: q.province, leadType: q.leadType, q: q.q, eligibility: q.eligibility, sort: q.sort, dir: q.dir };
}

export function proposalOfficeRouter(ctx: AppContext): Router {
  const router = Router();
  const r = guard(router);
  const { sequelize, config } = ctx;
  const links = { baseUrl: config.baseUrl };

  // ---- endorsement (依托单位审核) --------------------------------------------------------------------

  r.get('/endorsements', officePolicy.endorsements, async (req, res) => {
    const form = parseForm(endorsementQuery, req.query);
    const q = form.ok ? form.data : { show: 'pending' as const, page: 1 };
    const { rows, count } = await endorsementQueue(sequelize, adminInstitutions(actorOf(req)), q.show, q.page);
    res.status(form.ok ? 200 : 400).render('proposals/office/endorsements', {
      title: 'screening:endorse.title',
      show: q.show,
      invalid: !form.ok,
      rows: rows.map((x) => endorsementRowView(x, res.locals.lang)),
      pager: pager('/endorsements', { show: q.show === 'pending' ? '' : q.show }, q.page, count, ENDORSEMENT_PAGE_SIZE),
    });
  });

  async function renderEndorsement(req: Request, res: Response, status: number, m: { errors?: FieldErrors; values?: Record<string, string>; formError?: string } = {}) {
    const report = await screeningReport(idParam(req)!);
    if (!report) return res.status(404).render('errors/error', { title: 'common:errors.notFound.title', reason: 'screening:errors.notFound', status: 404 });
    const summary = proposalSummary(report, res.locals.lang);
    res.status(status).render('proposals/office/endorsement', {
      title: 'screening:endorse.detailTitle',
      p: summary,
      piName: await userName(report.bundle.proposal.piUserId),
      pending: report.bundle.proposal.status === 'submitted' && report.bundle.endorsementRequired,
      errors: m.errors ?? {},
      values: m.values ?? {},
      formError: m.formError,
    });
  }

  const afterCommand = (res: Response, result: CommandResult, redirect: string, success: string, rerender: (status: number, formError: string) => unknown) => {
    if (!result.ok) return rerender(result.status, result.error);
    ctx.kickOutbox();
    res.flash('success', success);
    res.redirect(303, redirect);
  };

  r.get('/endorsements/:id', officePolicy.endorseProposal, (req, res) => renderEndorsement(req, res, 200));

  r.post('/endorsements/:id/endorse', officePolicy.endorseProposal, async (req, res) => {
    const id = idParam(req)!;
    const result = await decideEndorsement(sequelize, auditContext(req), actorOf(req)!, id, 'endorse', null, links);
    afterCommand(res, result, '/endorsements', 'screening:endorse.done.endorsed', (status, formError) => renderEndorsement(req, res, status, { formError }));
  });

  r.post('/endorsements/:id/return', officePolicy.endorseProposal, async (req, res) => {
    const id = idParam(req)!;
    const form = parseForm(returnSchema, req.body);
    if (!form.ok) return renderEndorsement(req, res, 400, { errors: form.errors, values: form.values });
    const result = await decideEndorsement(sequelize, auditContext(req), actorOf(req)!, id, 'return', form.data.reason, links);
    afterCommand(res, result, '/endorsements', 'screening:endorse.done.returned', (status, formError) => renderEndorsement(req, res, status, { formError, values: { reason: form.data.reason } }));
  });

  // ---- screening (形式审查) -------------------------------------------------------------------------

  r.get('/screening', officePolicy.screening, async (req, res) => {
    const form = parseForm(screeningQuery, req.query);
    const provinces = officerProvinces(actorOf(req));
    const [calls, provinceList] = await Promise.all([callScopes(sequelize), provinceCodes(sequelize)]);
    const f = form.ok ? filtersOf(form.data) : DEFAULT_FILTERS;
    const page = form.ok ? form.data.page : 1;
    const { rows, count } = form.ok ? await screeningPage(sequelize, provinces, calls, f, { limit: SCREENING_PAGE_SIZE, offset: (page - 1) * SCREENING_PAGE_SIZE }) : { rows: [], count: 0 };
    const values = form.ok ? filterValues(f) : form.values;
    const callMap = new Map(calls.map((c) => [c.id, c]));
    const lang = res.locals.lang;
    res.status(form.ok ? 200 : 400).render('proposals/office/screening', {
      title: 'screening:list.title',
      values,
      errors: form.ok ? {} : form.errors,
      myProvinces: provinces,
      calls: calls.map((c) => ({ id: String(c.id), title: lang === 'en' && c.titleEn ? c.titleEn : c.titleZh })),
      provinces: provinceList,
      statuses: SCREENING_STATUSES,
      leadTypes: INSTITUTION_TYPES,
      rows: rows.map((x) => screeningRowView(x, callMap, lang)),
      sort: sortLinks(f, filterValues(f)),
      exportQuery: queryString(form.ok ? filterValues(f) : {}),
      pager: pager('/screening', filterValues(f), page, count, SCREENING_PAGE_SIZE),
    });
  });

  const exportRoute = (format: ExportFormat) => async (req: Request, res: Response) => {
    const form = parseForm(screeningQuery, req.query);
    if (!form.ok) return res.status(400).render('errors/error', { title: 'common:errors.400.title', reason: 'common:errors.400.reason', status: 400 });
    const calls = await callScopes(sequelize);
    const rows = await screeningRows(sequelize, officerProvinces(actorOf(req)), calls, filtersOf(form.data), { limit: EXPORT_ROW_LIMIT, offset: 0 });
    const body = await exportBuffer(buildWorkbook(rows, calls, res.locals.lang), format);
    await auditScreeningExport(sequelize, auditContext(req), { format, filters: filterValues(filtersOf(form.data)), rows: rows.length });
    res.set({ 'Content-Type': EXPORT_TYPES[format], 'Content-Disposition': `attachment; filename="screening-${shanghaiDay(new Date())}.${format}"`, 'Cache-Control': 'no-store' });
    res.send(body);
  };
  r.get('/screening/export.xlsx', officePolicy.screening, exportRoute('xlsx'));
  r.get('/screening/export.csv', officePolicy.screening, exportRoute('csv'));

  async function renderScreening(req: Request, res: Response, status: number, m: { errors?: FieldErrors; values?: Record<string, string>; formError?: string } = {}) {
    const id = idParam(req)!;
    const report = await screeningReport(id);
    if (!report) return res.status(404).render('errors/error', { title: 'common:errors.notFound.title', reason: 'screening:errors.notFound', status: 404 });
    const p = report.bundle.proposal;
    const summary = proposalSummary(report, res.locals.lang);
    const submission = await latestSubmission(id);
    const decided = p.status === 'eligible' || p.status === 'ineligible';
    const open = report.call.status === 'published' || report.call.status === 'closed';
    res.status(status).render('proposals/office/screening-detail', {
      title: 'screening:detail.title',
      p: summary,
      piName: await userName(p.piUserId),
      screenedBy: await userName(p.screenedBy),
      submission: submission ? { receiptNo: submission.receiptNo, sha256: submission.snapshotSha256, createdAt: submission.createdAt } : null,
      canDecide: open && (decided || awaitsScreening(p.status, report.bundle.endorsementRequired)),
      decided,
      errors: m.errors ?? {},
      values: m.values ?? { decision: decided ? (p.status === 'eligible' ? 'ineligible' : 'eligible') : summary.failedCount ? 'ineligible' : 'eligible' },
      formError: m.formError,
    });
  }

  r.get('/screening/:id', officePolicy.screenProposal, (req, res) => renderScreening(req, res, 200));

  r.post('/screening/:id/decision', officePolicy.screenProposal, async (req, res) => {
    const id = idParam(req)!;
    const form = parseForm(decisionSchema, req.body);
    if (!form.ok) return renderScreening(req, res, 400, { errors: form.errors, values: form.values });
    const result = await decideScreening(sequelize, auditContext(req), actorOf(req)!, id, form.data.decision, form.data.reason, links);
    const values = { decision: form.data.decision, reason: form.data.reason };
    if (!result.ok && 'field' in result) return renderScreening(req, res, 400, { errors: { reason: result.error }, values });
    afterCommand(res, result, `/screening/${id}`, `screening:decide.done.${form.data.decision}`, (status, formError) => renderScreening(req, res, status, { formError, values }));
  });

  return router;
}
