/**
 * Admin pages of the mail outbox: every message with its delivery state (so the demo works without SMTP:
 * mail stays here and an admin can read it), one message's headers and text, and "deliver again" for a dead
 * message. Routes are thin: policy → validate → command in a transaction with its audit event → view model.
 */
import { Router, type Request, type Response } from 'express';
import { fn, col } from 'sequelize';
import { z } from 'zod';
import { audit } from '../audit.js';
import { auditContext, type AppContext } from '../context.js';
import { withTransaction } from '../db.js';
import { notFound } from '../errors.js';
import { parseForm, type FieldErrors } from '../forms.js';
import { can, guard } from '../policy.js';
import { OutboxMessage, type OutboxStatus } from './outbox.js';

export const OUTBOX_STATUSES = ['pending', 'sending', 'sent', 'dead'] as const satisfies readonly OutboxStatus[];
export const OUTBOX_PAGE_SIZE = 50;

/** Page numbers arrive as text; anything else (an array from ?page=1&page=2) is refused. */
export const pageParam = z
  .string({ message: 'common:form.invalid' })
  .regex(/^\d{0,6}$/, 'common:form.invalid')
  .optional()
  .transform((v) => Math.max(1, Number(v || 1)));

export const outboxQuery = z.object({
  status: z.union([z.literal(''), z.enum(OUTBOX_STATUSES)], { message: 'common:form.invalid' }).optional().default(''),
  page: pageParam,
});

const idParam = (raw: unknown): number | null => (typeof raw === 'string' && /^[1-9]\d{0,9}$/.test(raw) ? Number(raw) : null);

/** Links for the pager, keeping the filters. */
export function pager(base: string, filters: Record<string, string>, page: number, count: number, pageSize: number) {
  const pages = Math.max(1, Math.ceil(count / pageSize));
  const href = (p: number) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    if (p > 1) q.set('page', String(p));
    const s = q.toString();
    return s ? `${base}?${s}` : base;
  };
  return { page, pages, count, prevHref: page > 1 ? href(Math.min(page - 1, pages)) : '', nextHref: page < pages ? href(page + 1) : '' };
}

const recipient = (m: OutboxMessage) => (m.toName ? `${m.toName} <${m.toAddress}>` : m.toAddress);

/** Messages carrying a single-use sign-in or password link. */
const LINK_TEMPLATES = new Set(['verify-email', 'password-reset', 'expert-invited']);

export function mailAdminRouter(ctx: AppContext): Router {
  const router = Router();
  const r = guard(router);
  const { sequelize, config } = ctx;
  const admin = can.role('admin');
  const smtpConfigured = !!config.smtpUrl;

  async function statusCounts(selected: string) {
    const rows = (await OutboxMessage.findAll({ attributes: ['status', [fn('COUNT', col('id')), 'n']], group: ['status'], raw: true })) as unknown as Array<{ status: string; n: number | string }>;
    const counts = new Map(rows.map((row) => [row.status, Number(row.n)]));
    return OUTBOX_STATUSES.map((value) => ({ value, count: counts.get(value) ?? 0, selected: value === selected }));
  }

  async function renderList(res: Response, status: number, filters: { status: string; page: number }, errors: FieldErrors) {
    const where = filters.status ? { status: filters.status as OutboxStatus } : {};
    const { rows, count } = errors.status
      ? { rows: [], count: 0 }
      : await OutboxMessage.findAndCountAll({
          where,
          attributes: { exclude: ['textBody', 'htmlBody'] },
          order: [['id', 'DESC']],
          limit: OUTBOX_PAGE_SIZE,
          offset: (filters.page - 1) * OUTBOX_PAGE_SIZE,
        });
    res.status(status).render('admin/outbox', {
      title: 'ops:outbox.title',
      smtpConfigured,
      errors,
      statuses: await statusCounts(filters.status),
      messages: rows.map((m) => ({
        id: m.id,
        recipient: recipient(m),
        subject: m.subject,
        status: m.status,
        attempts: m.attempts,
        lastError: m.lastError ?? '',
        createdAt: m.createdAt,
        nextAttemptAt: m.status === 'pending' ? m.nextAttemptAt : null,
        sentAt: m.sentAt,
      })),
      pager: pager('/admin/outbox', { status: filters.status }, filters.page, count, OUTBOX_PAGE_SIZE),
    });
  }

  r.get('/admin/outbox', admin, async (req, res) => {
    const form = parseForm(outboxQuery, req.query);
    if (!form.ok) return renderList(res, 400, { status: '', page: 1 }, form.errors);
    await renderList(res, 200, form.data, {});
  });

  r.get('/admin/outbox/:id', admin, async (req: Request, res: Response) => {
    const id = idParam(req.params.id);
    const m = id ? await OutboxMessage.findByPk(id) : null;
    if (!m) return notFound(req, res);
    // With real delivery, a mailed sign-in link stays between the mailbox and its owner: an admin reading
    // the outbox must not be able to take over the account. Without SMTP (the offline demo) it is shown.
    const hidden = smtpConfigured && LINK_TEMPLATES.has(m.template);
    res.render('admin/outbox-message', {
      title: 'ops:outbox.detailTitle',
      smtpConfigured,
      message: {
        id: m.id,
        from: config.mailFrom,
        to: recipient(m),
        subject: m.subject,
        messageId: m.messageId,
        template: m.template,
        status: m.status,
        attempts: m.attempts,
        lastError: m.lastError ?? '',
        createdAt: m.createdAt,
        nextAttemptAt: m.status === 'pending' ? m.nextAttemptAt : null,
        sentAt: m.sentAt,
        hidden,
        text: hidden ? '' : m.textBody,
        html: hidden ? '' : m.htmlBody,
        canRetry: m.status === 'dead',
      },
    });
  });

  r.post('/admin/outbox/:id/retry', admin, async (req: Request, res: Response) => {
    const id = idParam(req.params.id);
    if (!id) return notFound(req, res);
    const outcome = await withTransaction(sequelize, async (t) => {
      const m = await OutboxMessage.findByPk(id, { transaction: t, lock: t.LOCK.UPDATE });
      if (!m) return 'missing' as const;
      if (m.status !== 'dead') return 'notDead' as const;
      const before = { status: m.status, attempts: m.attempts, lastError: m.lastError };
      await m.update({ status: 'pending', attempts: 0, nextAttemptAt: new Date(), lockedUntil: null }, { transaction: t });
      await audit(t, auditContext(req), { action: 'outbox.retry', entityType: 'outbox_message', entityId: m.id, before, after: { status: 'pending', attempts: 0 } });
      return 'retried' as const;
    });
    if (outcome === 'missing') return notFound(req, res);
    if (outcome === 'retried') {
      ctx.kickOutbox();
      res.flash('success', 'ops:outbox.retry.done');
    } else res.flash('warning', 'ops:outbox.retry.notDead');
    res.redirect(303, `/admin/outbox/${id}`);
  });

  return router;
}
