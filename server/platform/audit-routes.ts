/**
 * Admins browse and filter the audit trail: by actor (e-mail), action prefix, entity type and id, and a date
 * range in Asia/Shanghai days; 50 records a page, newest first, before/after shown as escaped JSON.
 * The query is validated against an allowlist (an array or object where a string belongs → 400).
 */
import { Router, type Response } from 'express';
import { Op, Sequelize as S, type WhereOptions } from 'sequelize';
import { z } from 'zod';
import { AuditEvent } from './audit.js';
import type { AppContext } from './context.js';
import { parseForm, type FieldErrors } from './forms.js';
import { pageParam, pager } from './mail/routes.js';
import { can, guard } from './policy.js';
import { User } from '../people/models.js';
import { normaliseEmail } from '../people/rules.js';

export const AUDIT_PAGE_SIZE = 50;

const text = (max: number) => z.string({ message: 'common:form.invalid' }).trim().max(max, 'common:form.tooLong');
const code = (max: number) => text(max).regex(/^[A-Za-z0-9_.-]*$/, 'ops:audit.errors.code');

/** YYYY-MM-DD that is a real calendar day (2026-02-30 and 2026-13-01 are not). */
export function isCalendarDay(v: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(v);
}
const day = text(10).refine((v) => v === '' || isCalendarDay(v), 'ops:audit.errors.date');

export const auditQuery = z
  .object({
    actor: text(254).optional().default(''),
    action: code(64).optional().default(''),
    entityType: code(64).optional().default(''),
    entityId: text(64).optional().default(''),
    from: day.optional().default(''),
    to: day.optional().default(''),
    page: pageParam,
  })
  .refine((v) => !v.from || !v.to || v.from <= v.to, { message: 'ops:audit.errors.range', path: ['to'] });

export type AuditQuery = z.infer<typeof auditQuery>;

/** Midnight at the start of a Shanghai calendar day (UTC+8, no daylight saving). */
export const shanghaiDayStart = (d: string) => new Date(`${d}T00:00:00+08:00`);
const nextDay = (d: Date) => new Date(d.getTime() + 86_400_000);

export interface AuditSearch {
  actorId?: number;
  action?: string;
  entityType?: string;
  entityId?: string;
  from?: Date;
  to?: Date;
}

/**
 * The where clause. The action prefix (letters, digits, `.`, `_`, `-` only) is matched with LIKE 'prefix%' —
 * a superset, since `_` is a LIKE wildcard and SQLite has no default escape character — narrowed by an exact
 * comparison of the first characters, so both dialects give the same answer and the index still serves.
 */
export function auditWhere(f: AuditSearch): WhereOptions {
  const and: WhereOptions[] = [];
  if (f.actorId !== undefined) and.push({ actorId: f.actorId });
  if (f.action) {
    and.push({ action: { [Op.like]: `${f.action}%` } });
    and.push(S.where(S.fn('substr', S.col('action'), 1, f.action.length), f.action));
  }
  if (f.entityType) and.push({ entityType: f.entityType });
  if (f.entityId) and.push({ entityId: f.entityId });
  if (f.from) and.push({ createdAt: { [Op.gte]: f.from } });
  if (f.to) and.push({ createdAt: { [Op.lt]: f.to } });
  return { [Op.and]: and };
}

function prettyJson(s: string | null): string {
  if (!s) return '';
  try {
    return JSON.stringify(JSON.parse(s), null, 2);
  } catch {
    return s;
  }
}

export function auditRouter(_ctx: AppContext): Router {
  void _ctx;
  const router = Router();
  const r = guard(router);

  async function entityTypes(): Promise<string[]> {
    const rows = (await AuditEvent.findAll({ attributes: [[S.fn('DISTINCT', S.col('entity_type')), 'entityType']], raw: true })) as unknown as Array<{ entityType: string }>;
    return rows.map((row) => row.entityType).sort();
  }

  async function render(res: Response, status: number, values: Record<string, string>, errors: FieldErrors, q: AuditQuery | null) {
    let rows: AuditEvent[] = [];
    let count = 0;
    if (q) {
      const search: AuditSearch = {
        action: q.action || undefined,
        entityType: q.entityType || undefined,
        entityId: q.entityId || undefined,
        from: q.from ? shanghaiDayStart(q.from) : undefined,
        to: q.to ? nextDay(shanghaiDayStart(q.to)) : undefined,
      };
      let known = true;
      if (q.actor) {
        const actor = await User.findOne({ where: { email: normaliseEmail(q.actor) }, attributes: ['id'] });
        if (actor) search.actorId = actor.id;
        else {
          known = false;
          errors = { ...errors, actor: 'ops:audit.errors.actorUnknown' };
        }
      }
      if (known) {
        ({ rows, count } = await AuditEvent.findAndCountAll({ where: auditWhere(search), order: [['id', 'DESC']], limit: AUDIT_PAGE_SIZE, offset: (q.page - 1) * AUDIT_PAGE_SIZE }));
      }
    }
    const actorIds = [...new Set(rows.map((e) => e.actorId).filter((id): id is number => id !== null))];
    const actors = new Map((actorIds.length ? await User.findAll({ where: { id: actorIds }, attributes: ['id', 'name', 'email'] }) : []).map((u) => [u.id, { name: u.name, email: u.email }]));
    const filters: Record<string, string> = q ? { actor: q.actor, action: q.action, entityType: q.entityType, entityId: q.entityId, from: q.from, to: q.to } : {};
    res.status(status).render('admin/audit', {
      title: 'ops:audit.title',
      values,
      errors,
      entityTypes: await entityTypes(),
      events: rows.map((e) => ({
        id: e.id,
        createdAt: e.createdAt,
        actorId: e.actorId,
        actor: e.actorId === null ? null : (actors.get(e.actorId) ?? null),
        action: e.action,
        entityType: e.entityType,
        entityId: e.entityId ?? '',
        ip: e.ip ?? '',
        before: prettyJson(e.beforeJson),
        after: prettyJson(e.afterJson),
      })),
      pager: pager('/admin/audit', filters, q?.page ?? 1, count, AUDIT_PAGE_SIZE),
    });
  }

  r.get('/admin/audit', can.role('admin'), async (req, res) => {
    const form = parseForm(auditQuery, req.query);
    if (!form.ok) return render(res, 400, form.values, form.errors, null);
    const q = form.data;
    const values = { actor: q.actor, action: q.action, entityType: q.entityType, entityId: q.entityId, from: q.from, to: q.to };
    await render(res, 200, values, {}, q);
  });

  return router;
}
