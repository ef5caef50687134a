import { expect } from 'chai';
import { download, newAgent, signedInAgent } from '../support/agent.js';
import { makeUser } from '../support/factories.js';
import { resetDb } from '../support/platform.js';
import { resultsWorld } from './results-fixtures.js';

type World = Awaited<ReturnType<typeof resultsWorld>>;

describe('review results: who may see them', () => {
  let w: World;
  let paths: string[];
  beforeEach(async () => {
    await resetDb();
    w = await resultsWorld();
    const base = `/calls/${w.call.id}/reviews`;
    paths = [base, `${base}?sort=score`, `${base}/${w.p1.proposal.id}`, `${base}/export.xlsx`, `${base}/export.csv`];
  });

  it('anonymous visitors are sent to sign in, for the pages and the exports', async () => {
    const anon = await newAgent();
    for (const path of paths) {
      const res = await anon.get(path);
      expect(res.status, path).to.equal(303);
      expect(res.headers.location, path).to.equal(`/login?next=${encodeURIComponent(path)}`);
    }
  });

  it('the PI, a partner, an expert of the call and an officer of a province not in the call get 403 everywhere', async () => {
    const zj = await makeUser({ email: 'officer.zj@example.org', roles: [{ role: 'officer', provinceCode: 'ZJ' }] });
    for (const email of [w.p1.pi.email, w.p1.contact.email, w.e1.email, zj.email]) {
      const agent = await signedInAgent(email);
      for (const path of paths) {
        const res = await download(agent, path);
        expect(res.status, `${email} ${path}`).to.equal(403);
        expect(res.headers['content-disposition'], `${email} ${path}`).to.equal(undefined);
      }
      expect((await agent.get(`/calls/${w.call.id}`)).text, email).to.not.contain(`/calls/${w.call.id}/reviews"`);
    }
  });

  it('platform admins may read the results (but are not offered the assignment)', async () => {
    const admin = await makeUser({ email: 'admin.results@example.org', roles: [{ role: 'admin' }] });
    const agent = await signedInAgent(admin.email);
    for (const path of paths) expect((await download(agent, path)).status, path).to.equal(200);
    const page = await agent.get(`/calls/${w.call.id}/reviews`);
    expect(page.text).to.not.contain(`href="/calls/${w.call.id}/assignment"`);
    expect((await agent.get(`/calls/${w.call.id}`)).text).to.contain(`href="/calls/${w.call.id}/reviews"`);
  });

  it('an officer conflicted with a proposal (works at its lead institution) sees nothing of it, and the ranks close up', async () => {
    const conflicted = await makeUser({ email: 'officer.conflicted@example.org', institutionId: w.p1.leadInst.id, roles: [{ role: 'officer', provinceCode: 'SH' }] });
    const agent = await signedInAgent(conflicted.email);
    const page = await agent.get(`/calls/${w.call.id}/reviews`);
    expect(page.status).to.equal(200);
    expect(page.text).to.not.contain('YRD-R-1').and.not.contain(w.p1.proposal.title);
    expect([...page.text.matchAll(/<td class="num rank">(\d+)<\/td>/g)].map((m) => Number(m[1]))).to.deep.equal([1, 2, 3]);
    expect(page.text).to.contain('1 个项目与您存在回避关系');
    expect((await agent.get(`/calls/${w.call.id}/reviews/${w.p1.proposal.id}`)).status).to.equal(403);
    expect((await agent.get(`/calls/${w.call.id}/reviews/${w.p2.proposal.id}`)).status).to.equal(200);
    const csv = (await download(agent, `/calls/${w.call.id}/reviews/export.csv`)).body.toString('utf8');
    expect(csv).to.not.contain('YRD-R-1');
    expect(csv).to.contain('YRD-R-2');
  });

  it('after the officers read the results, the applicants’ pages still hold no reviewer and no confidential comment', async () => {
    const officer = await signedInAgent(w.officer.email);
    expect((await officer.get(`/calls/${w.call.id}/reviews/${w.p1.proposal.id}`)).text).to.contain('严格专家甲');
    for (const who of [w.p1.pi, w.p1.contact]) {
      const agent = await signedInAgent(who.email);
      for (const path of [`/proposals/${w.p1.proposal.id}`, '/proposals', '/', `/calls/${w.call.id}`]) {
        const res = await agent.get(path);
        expect(res.status, path).to.equal(200);
        for (const e of [w.e1, w.e2, w.e3]) expect(res.text, path).to.not.contain(e.name).and.not.contain(e.email);
        expect(res.text, path).to.not.contain('团队偏弱，机密意见。');
      }
    }
  });
});
