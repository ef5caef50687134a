import { expect } from 'chai';
import { Attachment, ReviewerExclusion } from '../../server/proposals/models.js';
import { resetDb } from '../support/platform.js';
import { signedInAgent } from '../support/agent.js';
import { assign, openTab, reviewWorld } from './review-fixtures.js';

describe('reviews: who may open a review and the proposal behind it', () => {
  beforeEach(resetDb);

  it('expert B gets 403 on expert A\'s review (page and save) and on a proposal not assigned to them', async () => {
    const w = await reviewWorld();
    const b = await signedInAgent(w.expertB.email);
    const page = await b.get(`/reviews/${w.aA.id}`);
    expect(page.status).to.equal(403);
    expect(page.text).to.not.contain(w.proposal.title);
    const list = await b.get('/reviews');
    const csrf = await csrfOf(b);
    const post = await b.post(`/reviews/${w.aA.id}`).type('form').send({ _csrf: csrf, version: '0', commentsToApplicant: 'hijack' });
    expect(post.status).to.equal(403);
    expect((await b.get(`/proposals/${w.proposal.id}`)).status).to.equal(403);
    const att = await Attachment.findOne({ where: { proposalId: w.proposal.id } });
    expect((await b.get(`/proposals/${w.proposal.id}/attachments/${att!.id}`)).status).to.equal(403);
    expect(list.text).to.not.contain(w.proposal.title);
  });

  it('a reviewer reading the proposal does not see whom the applicant asked to exclude; the PI does', async () => {
    const w = await reviewWorld();
    await ReviewerExclusion.create({ proposalId: w.proposal.id, expertName: '回避专家甲', expertInstitution: '某大学', expertUserId: null, reason: '长期竞争关系' });
    const reviewer = await signedInAgent(w.expertA.email);
    const seen = await reviewer.get(`/proposals/${w.proposal.id}`);
    expect(seen.status).to.equal(200);
    expect(seen.text).to.not.contain('回避专家甲').and.not.contain('长期竞争关系');
    const pi = await signedInAgent(w.pi.email);
    expect((await pi.get(`/proposals/${w.proposal.id}`)).text).to.contain('回避专家甲');
  });

  it('an invited (not yet accepted) expert sees the invitation with accept/decline forms but cannot open the review or the proposal', async () => {
    const w = await reviewWorld();
    const inv = await assign(w.call.id, w.proposal.id, w.expertB.id, 'invited');
    const b = await signedInAgent(w.expertB.email);
    const list = await b.get('/reviews');
    expect(list.status).to.equal(200);
    expect(list.text).to.contain(`action="/reviews/${inv.id}/accept"`);
    expect(list.text).to.contain(`action="/reviews/${inv.id}/decline"`);
    expect(list.text).to.contain('name="conflict"');
    expect(list.text).to.not.contain(`href="/reviews/${inv.id}"`);
    expect((await b.get(`/reviews/${inv.id}`)).status).to.equal(403);
    expect((await b.get(`/proposals/${w.proposal.id}`)).status).to.equal(403);
  });

  it('the PI and an officer are refused on the expert route; a missing assignment is refused the same way', async () => {
    const w = await reviewWorld();
    for (const email of [w.pi.email, w.officer.email]) {
      const agent = await signedInAgent(email);
      expect((await agent.get(`/reviews/${w.aA.id}`)).status, email).to.equal(403);
    }
    const a = await signedInAgent(w.expertA.email);
    expect((await a.get('/reviews/99999999')).status).to.equal(403);
  });

  it('the assigned expert lists the review, opens the proposal and its attachments, and sees no other reviewer anywhere', async () => {
    const w = await reviewWorld();
    await assign(w.call.id, w.proposal.id, w.expertB.id, 'accepted');
    const a = await signedInAgent(w.expertA.email);
    const list = await a.get('/reviews');
    expect(list.text).to.contain(`href="/reviews/${w.aA.id}"`);
    const tab = await openTab(a, w.aA.id);
    expect(tab.html).to.contain(w.proposal.title);
    expect(tab.html).to.contain('先进封装');
    for (const c of w.criteria) expect(tab.html).to.contain(`name="score_${c.id}"`);
    const att = await Attachment.findOne({ where: { proposalId: w.proposal.id } });
    expect(tab.html).to.contain(`/proposals/${w.proposal.id}/attachments/${att!.id}`);
    // Past the policy (the test row has no stored file, so "not found" rather than "forbidden").
    expect((await a.get(`/proposals/${w.proposal.id}/attachments/${att!.id}`)).status).to.equal(404);
    const show = await a.get(`/proposals/${w.proposal.id}`);
    expect(show.status).to.equal(200);
    for (const html of [list.text, tab.html, show.text]) {
      expect(html).to.not.contain(w.expertB.name);
      expect(html).to.not.contain(w.expertB.email);
      expect(html).to.not.contain(String(w.expertB.id));
    }
  });
});

async function csrfOf(agent: Awaited<ReturnType<typeof signedInAgent>>): Promise<string> {
  const res = await agent.get('/account');
  return /name="_csrf" value="([^"]+)"/.exec(res.text)![1]!;
}
