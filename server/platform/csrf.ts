/**
 * CSRF: a signed double-submit token. A random secret lives in an httpOnly cookie; forms carry
 * HMAC(SESSION_SECRET, secret | session binding). Signed-in tokens are bound to the session id, so a token
 * from before sign-in or from a logged-out session is stale. Every POST must carry a valid token (form
 * field `_csrf` or header `X-CSRF-Token`), and a foreign Origin is refused outright.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { Forbidden } from './policy.js';

const COOKIE = 'yrd.csrf';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export function csrfProtection(secret: string, secureCookies: boolean) {
  const sign = (cookieSecret: string, binding: string) => createHmac('sha256', secret).update(`${cookieSecret}|${binding}`).digest('base64url');
  const bindingOf = (req: Request) => (req.user ? `s:${req.sessionID}` : 'anon');

  return function csrf(req: Request, res: Response, next: NextFunction) {
    let cookieSecret: string | undefined = req.cookies?.[COOKIE];
    if (typeof cookieSecret !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(cookieSecret)) {
      cookieSecret = undefined;
    }
    if (SAFE.has(req.method) && !cookieSecret) {
      cookieSecret = randomBytes(32).toString('base64url');
      res.cookie(COOKIE, cookieSecret, { httpOnly: true, sameSite: 'lax', secure: secureCookies, path: '/' });
    }
    if (cookieSecret) {
      const cs = cookieSecret;
      // Computed when the page renders: sign-in and sign-out change the binding during the request. A page reads
      // it for each of its forms (and Handlebars once more for each partial given parameters): signed once per
      // binding.
      let signed: { binding: string; token: string } | null = null;
      const token = () => {
        const binding = bindingOf(req);
        if (signed?.binding !== binding) signed = { binding, token: sign(cs, binding) };
        return signed.token;
      };
      Object.defineProperty(res.locals, 'csrfToken', { get: token, enumerable: true, configurable: true });
    }
    if (SAFE.has(req.method)) return next();
    const origin = req.get('origin');
    if (origin && origin !== 'null') {
      let host: string | null = null;
      try {
        host = new URL(origin).host;
      } catch {
        host = null;
      }
      if (host !== req.get('host')) return next(new Forbidden(403, 'common:csrf.foreignOrigin'));
    }
    // Multipart bodies are parsed after this check (uploads come after authentication), so they send the header;
    // without JavaScript a multipart form carries the token in its action URL (?_csrf=), accepted for multipart only.
    const fromQuery = req.is('multipart/form-data') && typeof req.query?._csrf === 'string' ? req.query._csrf : undefined;
    const given = (req.body && typeof req.body._csrf === 'string' ? req.body._csrf : undefined) ?? req.get('x-csrf-token') ?? fromQuery;
    if (!cookieSecret || typeof given !== 'string') return next(new Forbidden(403, 'common:csrf.invalid'));
    const expected = Buffer.from(sign(cookieSecret, bindingOf(req)));
    const got = Buffer.from(given);
    if (expected.length !== got.length || !timingSafeEqual(expected, got)) return next(new Forbidden(403, 'common:csrf.invalid'));
    next();
  };
}

export { COOKIE as CSRF_COOKIE };
