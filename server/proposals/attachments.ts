/**
 * Proposal attachments: upload (after the policy check and the deadline check, never before), download by
 * those who may see the proposal, delete while the draft is open, and the sweep of unreferenced files.
 * Order per upload: multer writes a temp file under UPLOAD_DIR/.tmp → kind, size and type (sniffed from the
 * bytes) are checked → fsync + sha256 + rename to an opaque name → the row is committed (deadline and draft
 * re-checked inside the transaction); if the commit fails the renamed file is removed.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { Op } from 'sequelize';
import type { Config } from '../config.js';
import type { FileType } from '../calls/rules.js';
import { audit, type AuditContext } from '../platform/audit.js';
import { actorOf, auditContext, type AppContext } from '../platform/context.js';
import { withTransaction } from '../platform/db.js';
import { parseForm } from '../platform/forms.js';
import { tFor } from '../platform/i18n.js';
import { isDiskFull } from '../platform/errors.js';
import { Forbidden, guard } from '../platform/policy.js';
import { keepUpload, removeStored, removeTemp, singleFileUpload, sniff, storedPath, sweepUploads, uploadArea, UploadRefused, type StoredFile, type UploadArea } from '../platform/storage.js';
import { bundleOf, idParam, mayView, piEditsDraft } from './access.js';
import { Attachment } from './models.js';
import { formatBytes } from './presenters.js';
import { attachmentFieldsSchema } from './schema.js';
import { clock, loadCallSettings, lockDraft, windowOf, type CallSettings } from './service.js';
import type { StepState } from './editor-routes.js';
import type { EditorStep } from './rules.js';

export const MAX_ATTACHMENTS = 50;

/** What the bytes must be for each allowed file type (as file-type names them). */
const MIME_OF: Record<FileType, string> = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

type RenderStep = (req: Request, res: Response, step: EditorStep, status?: number, s?: StepState) => Promise<void>;

/** A display name: no control or bidi-override characters, at most 200 characters. Never used as a path. */
export function displayName(raw: string): string {
  const clean = raw.replace(/[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g, '').trim();
  return (clean || 'file').slice(0, 200);
}

/** Content-Disposition: attachment with an ASCII fallback and the real name per RFC 5987 (filename*). */
export function contentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%;]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

export async function addAttachment(
  sequelize: AppContext['sequelize'],
  ctx: AuditContext,
  proposalId: number,
  f: StoredFile & { kind: string; originalName: string; mime: string; uploadedBy: number },
  now = clock.now(),
): Promise<number> {
  return withTransaction(sequelize, async (t) => {
    await lockDraft(t, proposalId, now);
    if ((await Attachment.count({ where: { proposalId }, transaction: t })) >= MAX_ATTACHMENTS) throw new Forbidden(403, 'proposals:attachments.errors.tooMany');
    const row = await Attachment.create(
      { proposalId, kind: f.kind, originalName: f.originalName, storedName: f.storedName, sizeBytes: f.sizeBytes, mime: f.mime, sha256: f.sha256, uploadedBy: f.uploadedBy },
      { transaction: t },
    );
    await audit(t, ctx, { action: 'proposal.add_attachment', entityType: 'proposal', entityId: proposalId, after: { attachmentId: row.id, kind: f.kind, originalName: f.originalName, sizeBytes: f.sizeBytes, sha256: f.sha256 } });
    return row.id;
  });
}

export async function deleteAttachment(sequelize: AppContext['sequelize'], area: UploadArea, ctx: AuditContext, proposalId: number, attachmentId: number, now = clock.now()): Promise<void> {
  const storedName = await withTransaction(sequelize, async (t) => {
    await lockDraft(t, proposalId, now);
    const row = await Attachment.findOne({ where: { id: attachmentId, proposalId }, transaction: t });
    if (!row) throw new Forbidden(404, 'proposals:attachments.errors.notFound');
    await row.destroy({ transaction: t });
    await audit(t, ctx, { action: 'proposal.delete_attachment', entityType: 'proposal', entityId: proposalId, before: { attachmentId, kind: row.kind, originalName: row.originalName, sha256: row.sha256 } });
    return row.storedName;
  });
  await removeStored(area, storedName); // if this fails, the sweep removes the file later
}

/** Remove upload files that no attachment row references (older than `olderThanMs`). */
export async function sweepAttachmentFiles(config: Pick<Config, 'uploadDir'>, olderThanMs = 3600_000): Promise<string[]> {
  const area = uploadArea(config.uploadDir);
  return sweepUploads(
    area,
    async (names) => new Set((await Attachment.findAll({ where: { storedName: { [Op.in]: names } }, attributes: ['storedName'], raw: true })).map((a) => a.storedName)),
    olderThanMs,
  );
}

const callOf = new WeakMap<Request, CallSettings>();

export function attachmentRouter(ctx: AppContext, renderStep: RenderStep): Router {
  const router = Router();
  const r = guard(router);
  const area = uploadArea(ctx.config.uploadDir);

  const wantsJson = (req: Request) => (req.get('accept') ?? '').startsWith('application/json');
  async function fail(req: Request, res: Response, status: number, key: string, params: Record<string, string> = {}, kind?: string) {
    await removeTemp(req);
    const message = String(tFor(res.locals.lang as string)(key, params));
    if (wantsJson(req)) return void res.status(status).json({ ok: false, error: message });
    await renderStep(req, res, 'attachments', status, { formMessage: message, values: kind ? { kind } : {} });
  }

  /** The upload disk is full: the PI is told plainly (nothing was kept), the operators through the error log. */
  async function diskFull(req: Request, res: Response, err: unknown) {
    ctx.logger.error({ err, uploadDir: area.root }, 'upload refused: no space left in the upload directory');
    await fail(req, res, 507, 'proposals:attachments.errors.noSpace');
  }

  /** Before reading any byte of the body: the call must be open (the policy already checked PI + draft). */
  async function uploadGate(req: Request, res: Response, next: NextFunction) {
    const call = await loadCallSettings(bundleOf(req).proposal.callId);
    if (!call || windowOf(call) !== 'open') return next(new Forbidden(403, 'proposals:window.closed'));
    callOf.set(req, call);
    next();
  }

  function receive(req: Request, res: Response, next: NextFunction) {
    const call = callOf.get(req)!;
    const maxBytes = Math.max(...call.kinds.map((k) => k.maxBytes));
    singleFileUpload(area, 'file', { maxBytes, fields: 4 })(req, res, (err?: unknown) => {
      if (!err) return next();
      if (err instanceof UploadRefused) {
        if (err.code === 'LIMIT_FILE_SIZE') return void fail(req, res, 413, 'proposals:attachments.errors.tooLarge', { limit: formatBytes(maxBytes) }).catch(next);
        if (err.code === 'LIMIT_FILE_COUNT' || err.code === 'LIMIT_UNEXPECTED_FILE') return void fail(req, res, 400, 'proposals:attachments.errors.oneFile').catch(next);
        return void fail(req, res, err.status, 'proposals:attachments.errors.malformed').catch(next);
      }
      if (isDiskFull(err)) return void diskFull(req, res, err).catch(next);
      // busboy's own parse errors (truncated or malformed multipart) are the client's fault.
      const m = (err as Error).message ?? '';
      if (/Unexpected end of form|Malformed part header|Multipart: Boundary not found|Unexpected end of multipart data/i.test(m)) return void fail(req, res, 400, 'proposals:attachments.errors.malformed').catch(next);
      next(err);
    });
  }

  r.post('/proposals/:id/attachments', piEditsDraft, uploadGate, receive, async (req, res) => {
    const lang = res.locals.lang as string;
    const call = callOf.get(req)!;
    const id = bundleOf(req).proposal.id;
    const fields = parseForm(attachmentFieldsSchema, req.body);
    const kind = fields.ok ? call.kinds.find((k) => k.code === fields.data.kind) : undefined;
    if (!kind) return fail(req, res, 400, 'proposals:attachments.errors.kind');
    const file = req.file;
    if (!file) return fail(req, res, 400, 'proposals:attachments.errors.noFile', {}, kind.code);
    if (file.size > kind.maxBytes) return fail(req, res, 413, 'proposals:attachments.errors.tooLargeForKind', { limit: formatBytes(kind.maxBytes), kind: lang === 'en' ? kind.nameEn : kind.nameZh }, kind.code);
    if (file.size === 0) return fail(req, res, 400, 'proposals:attachments.errors.empty', {}, kind.code);
    const type = await sniff(file.path);
    const allowed = kind.types.find((x) => type && type.ext === x && type.mime === MIME_OF[x]);
    if (!allowed) return fail(req, res, 400, 'proposals:attachments.errors.type', { allowed: kind.types.map((x) => x.toUpperCase()).join(' / ') }, kind.code);
    let stored: StoredFile;
    try {
      stored = await keepUpload(area, file.path);
    } catch (e) {
      if (isDiskFull(e)) return diskFull(req, res, e);
      throw e;
    }
    try {
      await addAttachment(ctx.sequelize, auditContext(req), id, { ...stored, kind: kind.code, originalName: displayName(file.originalname), mime: MIME_OF[allowed], uploadedBy: actorOf(req)!.id });
    } catch (e) {
      await removeStored(area, stored.storedName);
      throw e;
    }
    // The flash rides on a cookie, so the page the upload script loads next shows it too.
    res.flash('success', 'proposals:attachments.uploaded');
    if (wantsJson(req)) return void res.json({ ok: true, redirect: `/proposals/${id}/edit/attachments` });
    res.redirect(303, `/proposals/${id}/edit/attachments`);
  });

  r.get('/proposals/:id/attachments/:attId', mayView, async (req, res) => {
    const b = bundleOf(req);
    const attId = idParam(req.params.attId);
    const row = attId && b.attachments.some((a) => a.id === attId) ? await Attachment.findOne({ where: { id: attId, proposalId: b.proposal.id } }) : null;
    if (!row) throw new Forbidden(404, 'proposals:attachments.errors.notFound');
    const file = storedPath(area, row.storedName);
    const st = await stat(file).catch(() => null);
    if (!st) throw new Forbidden(404, 'proposals:attachments.errors.notFound');
    res.setHeader('Content-Type', row.mime);
    res.setHeader('Content-Length', String(st.size));
    res.setHeader('Content-Disposition', contentDisposition(row.originalName));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'private, no-store');
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    await pipeline(createReadStream(file), res);
  });

  r.post('/proposals/:id/attachments/:attId/delete', piEditsDraft, async (req, res) => {
    const b = bundleOf(req);
    const attId = idParam(req.params.attId);
    if (!attId || !b.attachments.some((a) => a.id === attId)) throw new Forbidden(404, 'proposals:attachments.errors.notFound');
    await deleteAttachment(ctx.sequelize, area, auditContext(req), b.proposal.id, attId);
    res.flash('success', 'proposals:attachments.deleted');
    res.redirect(303, `/proposals/${b.proposal.id}/edit/attachments`);
  });

  return router;
}
