/**
 * The officers' review results of a call: /calls/:id/reviews (progress and the joint ranking, sortable by mean z
 * or mean score), its xlsx/csv exports (audited), and /calls/:id/reviews/:proposalId (every submitted review of
 * one proposal, with the expert's name, scores, z and both comments). Who: officers of a province in the call's
 * pledges — the assignment page's rule — and platform admins; never applicants or experts. A viewer conflicted
 * with a proposal (its consortium, its institution, its reviewer) sees nothing of it (results-rules.ts).
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { idParam } from '../people/policy.js';
import { actorOf, auditContext, type AppContext } from '../platform/context.js';
import { ALLOW, definePolicy, Forbidden, guard, hasRole, officerProvinces } from '../platform/policy.js';
import { EXPORT_TYPES, exportBuffer, type ExportFormat } from '../proposals/exports.js';
import { callOf, callOfficer } from './assignment-routes.js';
import { buildResultsWorkbook } from './results-export.js';
import { resultsPage, reviewsPage } from './results-presenters.js';
import { RESULT_SORTS } from './results-rules.js';
import { auditExport, callResults, proposalReviews } from './results-service.js';

/** Officers of a pledging province (exactly as for the assignment page) and platform admins. */
export const callResultsReader = definePolicy("programme officers of a province in the call's pledges, and platform admins", (actor, req) =>
  actor && hasRole(actor, 'admin') ? ALLOW : callOfficer(actor, req),
);

const sortQuery = z.object({ sort: z.enum(RESULT_SORTS).default('z') });

export function resultsRouter(ctx: AppContext): Router {
  const router = Router();
  const r = guard(router);
  const { sequelize } = ctx;

  const sortOf = (req: Request) => {
    const q = sortQuery.safeParse(req.query);
    return q.success ? q.data.sort : 'z';
  };
  const viewerOf = (req: Request) => {
    const a = actorOf(req)!;
    return { id: a.id, institutionId: a.institutionId };
  };

  r.get('/calls/:id/reviews', callResultsReader, async (req, res) => {
    const call = await callOf(req);
    const sort = sortOf(req);
    const results = await callResults(sequelize, call, viewerOf(req), sort);
    const canAssign = officerProvinces(actorOf(req)).some((p) => call.provinces.includes(p));
    res.render('review/results', { title: 'reviews:results.title', ...resultsPage(call, results, sort, res.locals.lang, canAssign) });
  });

  const exportRoute = (format: ExportFormat) => async (req: Request, res: Response) => {
    const call = await callOf(req);
    const sort = sortOf(req);
    const results = await callResults(sequelize, call, viewerOf(req), sort);
    const body = await exportBuffer(buildResultsWorkbook(results.ranking, call.k, res.locals.lang), format);
    await auditExport(sequelize, auditContext(req), call.id, { format, sort, rows: results.ranking.length });
    res.set({ 'Content-Type': EXPORT_TYPES[format], 'Content-Disposition': `attachment; filename="review-results-${call.id}.${format}"`, 'Cache-Control': 'no-store' });
    res.send(body);
  };
  r.get('/calls/:id/reviews/export.xlsx', callResultsReader, exportRoute('xlsx'));
  r.get('/calls/:id/reviews/export.csv', callResultsReader, exportRoute('csv'));

  r.get('/calls/:id/reviews/:proposalId', callResultsReader, async (req, res) => {
    const call = await callOf(req);
    const proposalId = idParam(req, 'proposalId');
    if (!proposalId) throw new Forbidden(404, 'reviews:results.notUnderReview');
    const out = await proposalReviews(sequelize, call, proposalId, viewerOf(req));
    if (!out.ok) throw new Forbidden(out.status, out.reason);
    res.render('review/results-proposal', { title: 'reviews:results.proposalTitle', ...reviewsPage(call, out, res.locals.lang) });
  });

  return router;
}
