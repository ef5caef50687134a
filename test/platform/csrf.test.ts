/**
 * The CSRF token's binding: a visitor's token is not a signed-in user's, a token is bound to its session, and a page
 * that reads the token for several forms gets one token per binding even when sign-in happens during the request.
 */
import { expect } from 'chai';
import type { NextFunction, Request, Response } from 'express';
import { csrfProtection } from '../../server/platform/csrf.js';

const SECRET = 'test-secret-of-enough-length-for-hmac';
const COOKIE = 'A'.repeat(43);

function call(req: Partial<Request> & { method: string }): { req: Request; res: Response; error: unknown } {
  const res = { locals: {}, cookie() {} } as unknown as Response;
  let error: unknown = 'next not called';
  const full = { cookies: { 'yrd.csrf': COOKIE }, get: () => undefined, is: () => false, query: {}, ...req } as unknown as Request;
  csrfProtection(SECRET, false)(full, res, ((e?: unknown) => (error = e ?? null)) as NextFunction);
  return { req: full, res, error };
}
const tokenOf = (res: Response) => (res.locals as { csrfToken: string }).csrfToken;

describe('CSRF token binding', () => {
  it('gives one token per binding within a request, and a new one when the user signs in during it', () => {
    const { req, res } = call({ method: 'GET', sessionID: 'sid-1' });
    const visitor = tokenOf(res);
    expect(tokenOf(res)).to.equal(visitor);
    req.user = { id: 1 } as never;
    const signedIn = tokenOf(res);
    expect(signedIn).to.not.equal(visitor);
    expect(tokenOf(res)).to.equal(signedIn);
    // The same token a later signed-in request of that session gets, and not another session's.
    expect(tokenOf(call({ method: 'GET', sessionID: 'sid-1', user: { id: 1 } as never }).res)).to.equal(signedIn);
    expect(tokenOf(call({ method: 'GET', sessionID: 'sid-2', user: { id: 1 } as never }).res)).to.not.equal(signedIn);
  });

  it('accepts a POST with its binding’s token only', () => {
    const visitor = tokenOf(call({ method: 'GET', sessionID: 'sid-1' }).res);
    const signedIn = tokenOf(call({ method: 'GET', sessionID: 'sid-1', user: { id: 1 } as never }).res);
    const post = (token: string, user?: object) => call({ method: 'POST', sessionID: 'sid-1', ...(user ? { user: user as never } : {}), body: { _csrf: token } }).error;
    expect(post(visitor)).to.equal(null);
    expect(post(signedIn, { id: 1 })).to.equal(null);
    expect(post(visitor, { id: 1 })).to.have.property('status', 403);
    expect(post(signedIn)).to.have.property('status', 403);
  });
});
