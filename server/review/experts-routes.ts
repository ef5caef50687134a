/**
 * Expert pool pages: the officers' list (search, discipline, province, availability), an expert's page with a
 * fresh invitation, the import from xlsx/csv with its row-by-row report, and the expert's own profile.
 * Thin routes: policy → (upload) → validate → command in one transaction → explicit view model.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { actorOf, auditContext, type AppContext } from '../platform/context.js';
import { HttpError } from '../platform/errors.js';
import { echo, parseForm, type FieldErrors } from '../platform/forms.js';
import { Forbidden, guard, type Actor } from '../platform/policy.js';
import { removeTemp, singleFileUpload, sniff, uploadArea, UploadRefused } from '../platform/storage.js';
import { listProvinces, pagerFor } from '../people/institution-service.js';
import { idParam } from '../people/policy.js';
import { IMPORT_COLUMNS, LOAD_RANGE, MAX_IMPORT_ROWS, type ImportProblem } from './experts-rules.js';
import { MAX_IMPORT_BYTES, readImportTable, UnreadableFile } from './experts-import.js';
import { expertPolicy } from './experts-policy.js';
import { expertProfileSchema, expertSearchSchema } from './experts-schema.js';
import { expertDetail, importExperts, ownProfile, reinviteExpert, saveOwnProfile, searchExperts, type ImportSummary } from './experts-service.js';

/** The header row of the import template: Chinese headers (English ones are accepted too). */
const TEMPLATE_CSV = '\uFEFF姓名,邮箱,统一社会信用代码,职称,学科代码,关键词,最大评审量\r\n';

export function expertRouter(ctx: AppContext): Router {
  const router = Router();
  const r = guard(router);
  const { sequelize, config } = ctx;
  const links = { baseUrl: config.baseUrl };
  const area = uploadArea(config.uploadDir);

  r.get('/experts', expertPolicy.pool, async (req, res) => {
    const q = expertSearchSchema.safeParse(req.query);
    if (!q.success) throw new HttpError(400, 'common:errors.400.reason');
    const f = q.data;
    const { rows, count } = await searchExperts(sequelize, f);
    res.render('experts/list', {
      title: 'experts:list.title',
      filters: { q: f.q, discipline: f.discipline, available: f.available === '1' },
      provinces: (await listProvinces()).map((p) => ({ code: p.code, nameZh: p.nameZh, nameEn: p.nameEn, selected: p.code === f.province })),
      rows,
      pager: pagerFor('/experts', { q: f.q, discipline: f.discipline, province: f.province, available: f.available }, f.page, count),
    });
  });

  const renderImport = (res: Response, status: number, m: { problems?: ImportProblem[]; formError?: string; formErrorParams?: Record<string, unknown>; summary?: ImportSummary; fileName?: string } = {}) =>
    res.status(status).render('experts/import', {
      title: 'experts:import.title',
      columns: IMPORT_COLUMNS,
      maxRows: MAX_IMPORT_ROWS,
      maxKb: MAX_IMPORT_BYTES / 1024,
      loadDefault: LOAD_RANGE.default,
      problems: (m.problems ?? []).map((p) => ({ row: p.row, column: p.column, key: p.key, value: p.value })),
      formError: m.formError ?? null,
      formErrorParams: m.formErrorParams ?? {},
      summary: m.summary ?? null,
      fileName: m.fileName ?? null,
    });

  r.get('/experts/import', expertPolicy.pool, (_req, res) => renderImport(res, 200));

  r.get('/experts/import/template.csv', expertPolicy.pool, (_req, res) => {
    res.set('Content-Type', 'text/csv; charset=utf-8');
    res.set('Content-Disposition', 'attachment; filename="experts-template.csv"');
    res.send(TEMPLATE_CSV);
  });

  /** The file, after the policy: every multer limit set; refusals answered on the import page. */
  const receive = (req: Request, res: Response, next: NextFunction) =>
    singleFileUpload(area, 'file', { maxBytes: MAX_IMPORT_BYTES, fields: 2 })(req, res, (err?: unknown) => {
      if (!err) return next();
      const fail = (status: number, key: string) => void removeTemp(req).then(() => renderImport(res, status, { formError: key, formErrorParams: { kb: MAX_IMPORT_BYTES / 1024 } }), next);
      if (err instanceof UploadRefused) return fail(err.status, err.code === 'LIMIT_FILE_SIZE' ? 'experts:import.errors.tooLarge' : 'experts:import.errors.malformed');
      if (/Unexpected end of form|Malformed part header|Boundary not found|Unexpected end of multipart data/i.test((err as Error).message ?? '')) return fail(400, 'experts:import.errors.malformed');
      next(err);
    });

  r.post('/experts/import', expertPolicy.pool, receive, async (req, res) => {
    const file = req.file;
    if (!file) return renderImport(res, 400, { formError: 'experts:import.errors.noFile' });
    const fileName = file.originalname.replace(/[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g, '').slice(0, 200);
    let table: string[][];
    try {
      table = await readImportTable(file.path, (await sniff(file.path))?.ext, fileName);
    } catch (e) {
      if (e instanceof UnreadableFile) return renderImport(res, 400, { formError: e.key, formErrorParams: { kb: MAX_IMPORT_BYTES / 1024, max: MAX_IMPORT_ROWS }, fileName });
      throw e;
    } finally {
      await removeTemp(req);
    }
    const outcome = await importExperts(sequelize, auditContext(req), links, table, fileName);
    if (!outcome.ok) return renderImport(res, 400, { problems: outcome.problems, fileName });
    ctx.kickOutbox();
    renderImport(res, 200, { summary: outcome.summary, fileName });
  });

  r.get('/experts/:id', expertPolicy.pool, async (req, res) => {
    const id = idParam(req);
    const e = id ? await expertDetail(sequelize, id) : null;
    if (!e) throw new Forbidden(404, 'experts:errors.notFound');
    res.render('experts/show', { title: 'experts:show.title', e });
  });

  r.post('/experts/:id/invite', expertPolicy.pool, async (req, res) => {
    const id = idParam(req);
    const outcome = id ? await reinviteExpert(sequelize, auditContext(req), links, id) : 'notFound';
    if (outcome === 'notFound') throw new Forbidden(404, 'experts:errors.notFound');
    if (outcome === 'sent') ctx.kickOutbox();
    res.flash(outcome === 'sent' ? 'success' : 'info', outcome === 'sent' ? 'experts:show.invited' : 'experts:show.alreadyActive');
    res.redirect(303, `/experts/${id}`);
  });

  const renderProfile = async (req: Request, res: Response, status: number, m: { values?: Record<string, string>; errors?: FieldErrors } = {}) => {
    const actor = actorOf(req) as Actor;
    const p = await ownProfile(actor.id);
    const values = m.values ? { ...m.values, available: m.values.available === '1' } : p.values;
    res.status(status).render('experts/profile', {
      title: 'experts:profile.title',
      exists: p.exists,
      values,
      errors: m.errors ?? {},
      institutionZh: p.institutionZh,
      institutionEn: p.institutionEn,
      provinceCode: p.provinceCode,
      updatedAt: p.updatedAt,
      load: LOAD_RANGE,
    });
  };

  r.get('/expert/profile', expertPolicy.ownProfile, (req, res) => renderProfile(req, res, 200));

  r.post('/expert/profile', expertPolicy.ownProfile, async (req, res) => {
    const form = parseForm(expertProfileSchema, req.body);
    if (!form.ok) return renderProfile(req, res, 400, { values: echo(req.body), errors: form.errors });
    await saveOwnProfile(sequelize, auditContext(req), actorOf(req)!.id, form.data);
    res.flash('success', 'experts:profile.saved');
    res.redirect(303, '/expert/profile');
  });

  return router;
}
