/**
 * The expert's review pages: /reviews (their assignments by status; accept/decline forms post to the
 * assignment routes), /reviews/:assignmentId (the proposal and the scoring form; save a draft or submit).
 * Only the assigned expert with an accepted assignment may open or write a review (review-policy.ts).
 */
import { Router, type Request, type Response } from 'express';
import { actorOf, auditContext, type AppContext } from '../platform/context.js';
import { echo, type FieldErrors } from '../platform/forms.js';
import { guard } from '../platform/policy.js';
import { Call } from '../calls/models.js';
import { assignedExpert, assignmentOf, expertOnly } from './review-policy.js';
import { criteriaOf, ensureReview, myAssignments, parseReviewForm, proposalForReviewer, RECOMMENDATIONS, reviewValues, saveReview } from './review-service.js';

interface FormState {
  values?: Record<string, string>;
  errors?: FieldErrors;
  message?: string;
  conflict?: boolean;
}

export function reviewRouter(ctx: AppContext): Router {
  const router = Router();
  const r = guard(router);

  r.get('/reviews', expertOnly, async (req, res) => {
    const groups = await myAssignments(actorOf(req)!.id);
    res.render('review/reviews', { title: 'reviews:list.title', groups, empty: groups.length === 0 });
  });

  async function renderReview(req: Request, res: Response, status = 200, s: FormState = {}) {
    const a = assignmentOf(req);
    const [proposal, criteria, review, call] = await Promise.all([
      proposalForReviewer(a.proposalId),
      criteriaOf(a.callId),
      ensureReview(ctx.sequelize, auditContext(req), a.id),
      Call.findByPk(a.callId, { attributes: ['titleZh', 'titleEn', 'reviewDueAt'], raw: true }),
    ]);
    const stored = reviewValues(review, criteria);
    const readOnly = review.status === 'submitted';
    const values = s.values && !readOnly ? { ...s.values } : stored;
    // After a conflict the form carries the current version: saving again deliberately replaces the other save.
    if (s.conflict) values.version = stored.version!;
    const errors = s.errors ?? {};
    res.status(status).render('review/review-form', {
      title: 'reviews:form.title',
      assignmentId: a.id,
      proposal,
      call: { titleZh: call?.titleZh ?? '', titleEn: call?.titleEn ?? null, reviewDueAt: call?.reviewDueAt ?? null },
      readOnly,
      submittedAt: review.submittedAt,
      message: s.message ?? null,
      conflict: !!s.conflict,
      criteria: criteria.map((c) => {
        const name = `score_${c.id}`;
        const v = values[name] ?? '';
        return {
          name,
          nameZh: c.nameZh,
          nameEn: c.nameEn,
          weight: c.weight,
          scaleMax: c.scaleMax,
          value: v,
          error: errors[name] ?? null,
          options: Array.from({ length: c.scaleMax }, (_, i) => ({ value: String(i + 1), selected: v === String(i + 1) })),
        };
      }),
      recommendations: RECOMMENDATIONS.map((k) => ({ value: k, selected: values.recommendation === k })),
      values: { commentsToApplicant: values.commentsToApplicant ?? '', confidentialComments: values.confidentialComments ?? '', version: values.version ?? '0' },
      errors,
    });
  }

  r.get('/reviews/:assignmentId', assignedExpert, (req, res) => renderReview(req, res));

  r.post('/reviews/:assignmentId', assignedExpert, async (req, res) => {
    const a = assignmentOf(req);
    const criteria = await criteriaOf(a.callId);
    const typed = echo(req.body);
    const form = parseReviewForm(criteria, req.body);
    if (!form.ok) return renderReview(req, res, 400, { values: typed, errors: form.errors });
    const result = await saveReview(ctx.sequelize, auditContext(req), a, form.data);
    if (result.ok) {
      res.flash('success', result.submitted ? 'reviews:form.submitted' : 'reviews:form.saved');
      return res.redirect(303, result.submitted ? '/reviews' : `/reviews/${a.id}`);
    }
    if (result.kind === 'invalid') return renderReview(req, res, 400, { values: typed, errors: result.errors });
    if (result.kind === 'conflict') return renderReview(req, res, 409, { values: typed, message: 'reviews:form.conflict', conflict: true });
    return renderReview(req, res, result.status, { values: typed, message: result.reason });
  });

  return router;
}
