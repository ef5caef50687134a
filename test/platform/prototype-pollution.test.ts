/**
 * Prototype pollution (SECURITY: "`__proto__` keys leave Object.prototype unchanged"): hostile keys in query
 * strings, form bodies and JSON bodies, sent to routes that parse them for anyone, a signed-in user and an officer.
 */
import { expect } from 'chai';
import { resetDb } from '../support/platform.js';
import { makeUser } from '../support/factories.js';
import { csrfFrom, newAgent, signedInAgent } from '../support/agent.js';

const KEYS = ['__proto__', 'constructor', 'prototype'];
const polluted = () => ['polluted', 'isAdmin', 'roles'].filter((k) => k in Object.prototype || k in Array.prototype || k in Function.prototype);

describe('prototype pollution', () => {
  beforeEach(resetDb);
  afterEach(() => {
    // Leave nothing behind for the other tests even if one got through.
    for (const k of ['polluted', 'isAdmin', 'roles']) delete (Object.prototype as Record<string, unknown>)[k];
  });

  it('hostile keys in queries, forms and JSON bodies change no prototype, for a visitor, an applicant and an officer', async () => {
    await makeUser({ email: 'pi@example.org' });
    await makeUser({ email: 'officer@example.org', roles: [{ role: 'officer', provinceCode: 'SH' }] });
    const visitor = await newAgent();
    const pi = await signedInAgent('pi@example.org');
    const officer = await signedInAgent('officer@example.org');
    const form: string[] = [];
    for (const k of KEYS) form.push(`${k}[polluted]=1`, `${k}.polluted=1`, `${k}[isAdmin]=true`);
    const query = `?${form.join('&')}&call[__proto__][roles]=x`;
    const json = JSON.parse('{"__proto__":{"polluted":1,"isAdmin":true},"constructor":{"prototype":{"polluted":1}},"email":{"__proto__":{"roles":["admin"]}}}');

    for (const [agent, pages, posts] of [
      [visitor, ['/', '/login', '/calls'], ['/login', '/register', '/password/forgot']],
      [pi, ['/', '/proposals', '/account'], ['/account/profile', '/account/password', '/lang', '/calls/subscription']],
      [officer, ['/screening', '/endorsements', '/experts', '/integrity', '/calls'], ['/calls', '/integrity', '/lang']],
    ] as const) {
      for (const p of pages) await agent.get(`${p}${query}`);
      const token = await csrfFrom(agent, pages[0] === '/' ? '/' : pages[0]);
      for (const p of posts) {
        await agent.post(p).type('form').send(`_csrf=${encodeURIComponent(token)}&${form.join('&')}`);
        await agent.post(p).set('X-CSRF-Token', token).set('Content-Type', 'application/json').send(JSON.stringify({ ...json, _csrf: token }));
      }
      expect(polluted(), `after ${pages.join(', ')}`).to.deep.equal([]);
    }
    // And the app still answers as before.
    expect((await pi.get('/account')).status).to.equal(200);
    expect((await visitor.get('/account')).status).to.equal(303);
  });
});
