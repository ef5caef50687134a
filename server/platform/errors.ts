/**
 * 404 and error pages: a reason the user can read, a request id to quote, never a stack trace.
 * Refusals (Forbidden) render the policy's reason; a visitor who must sign in is sent to /login.
 */
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { Forbidden } from './policy.js';

export class HttpError extends Error {
  constructor(
    public readonly status: number,
    public readonly reason: string,
  ) {
    super(reason);
  }
}

function wantsJson(req: Request): boolean {
  return req.path.startsWith('/api/') || (req.get('accept') ?? '').startsWith('application/json');
}

export function notFound(req: Request, res: Response): void {
  res.status(404);
  if (wantsJson(req)) return void res.json({ error: 'not_found' });
  res.render('errors/error', { title: 'common:errors.notFound.title', reason: 'common:errors.notFound.reason', status: 404 });
}

function requestId(req: Request): string {
  return String((req as Request & { id?: unknown }).id ?? '');
}

/**
 * The database could not answer: refused, unreachable, the connection lost or killed mid-statement, a lock not
 * granted in time, SQLite busy, full or failing. The request fails with 503 ("try again"), not 500. Whatever the
 * transaction had done is rolled back (a lost connection's transaction is undone by the server) and the pool
 * replaces the connection, so the next request works without a restart.
 */
const UNAVAILABLE = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_SERVER_SHUTDOWN', 'ER_CONNECTION_KILLED', 'ER_QUERY_INTERRUPTED', 'ER_LOCK_WAIT_TIMEOUT', 'ER_LOCK_DEADLOCK', 'SQLITE_BUSY', 'SQLITE_FULL', 'SQLITE_IOERR']);
export function databaseUnavailable(err: unknown): boolean {
  const e = err as { name?: string; code?: string; parent?: { code?: string; fatal?: boolean }; original?: { code?: string } } | null;
  if (!e) return false;
  if (/^Sequelize(Connection|ConnectionRefused|HostNotReachable|ConnectionAcquireTimeout|ConnectionTimedOut)Error$/.test(e.name ?? '')) return true;
  // mysql2 marks an error that ended the connection as fatal (e.g. "Can't add new command when connection is in
  // closed state", which has no code).
  if (e.parent?.fatal === true) return true;
  return [e.code, e.parent?.code, e.original?.code].some((c) => c !== undefined && UNAVAILABLE.has(c));
}

/** No space left on the device, or the disk quota used up (uploads, SQLite): nothing was kept, try later. */
export const isDiskFull = (e: unknown): boolean => ['ENOSPC', 'EDQUOT'].includes((e as { code?: string } | null)?.code ?? '');

export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    void _next;
    if (res.headersSent) return void req.socket.destroy();
    if (err instanceof Forbidden) {
      if (err.status === 401 && !wantsJson(req) && req.method === 'GET') {
        return res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
      }
      res.status(err.status);
      if (wantsJson(req)) return void res.json({ error: 'forbidden', reason: err.reason });
      return res.render('errors/error', { title: `common:errors.${err.status}.title`, reason: err.reason, status: err.status });
    }
    const e = err as { status?: number; statusCode?: number; type?: string; code?: string; name?: string };
    let status = e.status ?? e.statusCode ?? 500;
    let reason = 'common:errors.500.reason';
    if (err instanceof HttpError) reason = err.reason;
    else if (e.type === 'entity.too.large' || e.code === 'LIMIT_FILE_SIZE') (status = 413), (reason = 'common:errors.413.reason');
    else if (e.type === 'parameters.too.many' || e.type === 'entity.parse.failed') (status = 400), (reason = 'common:errors.400.reason');
    else if (status === 503) reason = 'common:errors.503.reason';
    else if (databaseUnavailable(err)) (status = 503), (reason = 'common:errors.503.reason');
    else if (isDiskFull(err)) (status = 507), (reason = 'common:errors.507.reason');
    else if (status >= 400 && status < 500) reason = `common:errors.${status === 404 ? 'notFound' : '400'}.reason`;
    if (status >= 500) logger.error({ err, reqId: requestId(req) }, 'request failed');
    res.status(status);
    if (wantsJson(req)) return void res.json({ error: status >= 500 ? 'server_error' : 'bad_request', requestId: requestId(req) });
    const titled = status === 503 || status === 507 ? String(status) : status >= 500 ? '500' : status === 413 ? '413' : '400';
    res.render('errors/error', { title: `common:errors.${titled}.title`, reason, status, requestId: requestId(req) });
  };
}
