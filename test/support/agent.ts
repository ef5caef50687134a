/** HTTP helpers: a supertest agent that keeps cookies, reads CSRF tokens from pages, and signs in. */
import { expect } from 'chai';
import supertest from 'supertest';
import { platform } from './platform.js';
import { PASSWORD } from './factories.js';

export type Agent = ReturnType<typeof supertest.agent>;

export async function newAgent(): Promise<Agent> {
  const { app } = await platform();
  return supertest.agent(app);
}

/** The CSRF token in the first form of the page at `path` (also sets the CSRF cookie on the agent). */
export async function csrfFrom(agent: Agent, path = '/login'): Promise<string> {
  const res = await agent.get(path);
  const m = /name="_csrf" value="([^"]+)"/.exec(res.text);
  if (!m) throw new Error(`no CSRF token on ${path} (status ${res.status})`);
  return m[1]!;
}

export async function signIn(agent: Agent, email: string, password = PASSWORD) {
  const token = await csrfFrom(agent, '/login');
  return agent.post('/login').type('form').send({ _csrf: token, email, password });
}

export async function signedInAgent(email: string, password = PASSWORD): Promise<Agent> {
  const agent = await newAgent();
  const res = await signIn(agent, email, password);
  expect(res.status, `sign-in of ${email} failed: ${res.text.slice(0, 300)}`).to.equal(303);
  return agent;
}

/** POST a form from a signed-in page, taking the token from `fromPath`. */
export async function postForm(agent: Agent, path: string, body: Record<string, string | number>, fromPath = '/') {
  const token = await csrfFrom(agent, fromPath);
  return agent.post(path).type('form').send({ _csrf: token, ...body });
}

/** GET a download as raw bytes (xlsx, csv) with its status and headers. */
export async function download(agent: Agent, path: string) {
  const res = await agent
    .get(path)
    .buffer(true)
    .parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
  return { status: res.status, headers: res.headers as Record<string, string>, body: res.body as Buffer };
}
