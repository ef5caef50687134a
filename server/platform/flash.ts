/**
 * One-shot messages shown on the next page. Kept in a short-lived cookie holding i18n keys, so that showing
 * "check your mail" to a visitor does not create a session row. Unknown keys or kinds are dropped.
 */
import type { NextFunction, Request, Response } from 'express';
import { hasKey } from './i18n.js';

const COOKIE = 'yrd.flash';
const KINDS = new Set(['success', 'info', 'warning', 'error']);

export interface Flash {
  kind: 'success' | 'info' | 'warning' | 'error';
  key: string;
  params?: Record<string, string | number>;
}

declare module 'express-serve-static-core' {
  interface Response {
    flash(kind: Flash['kind'], key: string, params?: Flash['params']): void;
  }
}

export function flashMiddleware(secure: boolean) {
  return (req: Request, res: Response, next: NextFunction) => {
    const raw = req.cookies?.[COOKIE];
    let shown: Flash[] = [];
    if (typeof raw === 'string' && raw.length < 4000) {
      try {
        const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
        if (Array.isArray(parsed)) shown = parsed.filter((f) => f && KINDS.has(f.kind) && typeof f.key === 'string' && hasKey(f.key)).slice(0, 5);
      } catch {
        shown = [];
      }
      res.clearCookie(COOKIE, { path: '/' });
    }
    res.locals.flashes = shown;
    const pending: Flash[] = [];
    res.flash = (kind, key, params) => {
      pending.push({ kind, key, ...(params ? { params } : {}) });
      res.cookie(COOKIE, Buffer.from(JSON.stringify(pending)).toString('base64url'), { httpOnly: true, sameSite: 'lax', secure, path: '/', maxAge: 60_000 });
    };
    next();
  };
}
