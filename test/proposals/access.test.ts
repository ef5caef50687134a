import { expect } from 'chai';
import { Proposal, ProposalPartner } from '../../server/proposals/models.js';
import { resetDb } from '../support/platform.js';
import { makeInstitution, makeUser } from '../support/factories.js';
import { newAgent, signedInAgent } from '../support/agent.js';
import { makeCompleteDraft, tokenFrom } from './helpers.js';

describe('who may see and change a proposal', () => {
  beforeEach(resetDb);

  it('another PI gets 403 on the proposal, its editor steps, its actions; a missing proposal is 404', async () => {
    const { proposal } = await makeCompleteDraft();
    const b = await signedInAgent((await makeUser({ email: 'pi-b@example.org' })).email);
    for (const path of ['', '/edit', '/edit/basic', '/edit/budget', '/edit/submit']) {
      const res = await b.get(`/proposals/${proposal.id}${path}`);
      expect(res.status, path).to.equal(403);
      expect(res.text, path).to.not.contain('长三角先进封装可靠性联合攻关');
    }
    const csrf = await tokenFrom(b, '/proposals');
    for (const path of ['/edit/basic', '/submit', '/withdraw', '/edit/exclusions']) {
      const res = await b.post(`/proposals/${proposal.id}${path}`).type('form').send({ _csrf: csrf, title: 'hijack', idempotencyKey: 'k'.repeat(32) });
      expect(res.status, path).to.equal(403);
    }
    expect((await Proposal.findByPk(proposal.id))!.title).to.equal('长三角先进封装可靠性联合攻关');
    expect((await b.get('/proposals/999999')).status).to.equal(404);
    expect((await b.get('/proposals')).text).to.not.contain(`/proposals/${proposal.id}`);
  });

  it('an anonymous visitor sees no proposal: sent to sign in', async () => {
    const { proposal } = await makeCompleteDraft();
    const anon = await newAgent();
    for (const path of ['/proposals', `/proposals/${proposal.id}`, `/proposals/${proposal.id}/edit/basic`]) {
      const res = await anon.get(path);
      expect(res.status, path).to.equal(303);
      expect(res.headers.location, path).to.match(/^\/login\?next=/);
    }
  });

  it("a partner's contact reads the proposal and their own partner page, not the editor or another partner's page", async () => {
    const { proposal, contact, partner } = await makeCompleteDraft();
    const third = await ProposalPartner.create({
      proposalId: proposal.id,
      institutionId: (await makeInstitution({ provinceCode: 'ZJ' })).id,
      provinceCode: 'ZJ',
      isLead: false,
      role: null,
      contactUserId: (await makeUser()).id,
      sortOrder: 2,
    });
    const c = await signedInAgent(contact.email);
    expect((await c.get(`/proposals/${proposal.id}`)).status).to.equal(200);
    expect((await c.get(`/proposals/${proposal.id}/partner/${partner.id}`)).status).to.equal(200);
    expect((await c.get(`/proposals/${proposal.id}/edit/basic`)).status).to.equal(403);
    expect((await c.get(`/proposals/${proposal.id}/partner/${third.id}`)).status).to.equal(403);
    const csrf = await tokenFrom(c, `/proposals/${proposal.id}/partner/${partner.id}`);
    const other = await c.post(`/proposals/${proposal.id}/partner/${third.id}`).type('form').send({ _csrf: csrf, 'a.1.equipment': '999' });
    expect(other.status).to.equal(403);
    expect((await c.post(`/proposals/${proposal.id}/partner/${third.id}/confirm`).type('form').send({ _csrf: csrf })).status).to.equal(403);
    expect((await c.post(`/proposals/${proposal.id}/edit/basic`).type('form').send({ _csrf: csrf, title: 'x' })).status).to.equal(403);
    expect((await ProposalPartner.findByPk(third.id))!.confirmedAt).to.equal(null);
  });

  it('an officer cannot see a draft; after submission officers of the consortium provinces can, others cannot', async () => {
    const { proposal } = await makeCompleteDraft();
    const sh = await signedInAgent((await makeUser({ roles: [{ role: 'officer', provinceCode: 'SH' }] })).email);
    const ah = await signedInAgent((await makeUser({ roles: [{ role: 'officer', provinceCode: 'AH' }] })).email);
    expect((await sh.get(`/proposals/${proposal.id}`)).status).to.equal(403);
    await Proposal.update({ status: 'submitted', receiptNo: 'YRD-TEST-1', submittedAt: new Date() }, { where: { id: proposal.id } });
    expect((await sh.get(`/proposals/${proposal.id}`)).status).to.equal(200);
    expect((await ah.get(`/proposals/${proposal.id}`)).status).to.equal(403);
    // Officers read; they do not edit.
    expect((await sh.get(`/proposals/${proposal.id}/edit/basic`)).status).to.equal(403);
  });
});
