import { expect } from 'chai';
import { AuditEvent } from '../../server/platform/audit.js';
import { BudgetLine, Proposal, ProposalPartner } from '../../server/proposals/models.js';
import { resetDb } from '../support/platform.js';
import { signedInAgent } from '../support/agent.js';
import { makeCompleteDraft, tokenFrom } from './helpers.js';

describe('partner sign-off', () => {
  beforeEach(resetDb);

  it('the contact edits their own lines (which resets their confirmation, audited) and confirms again', async () => {
    const { proposal, contact, partner } = await makeCompleteDraft();
    const c = await signedInAgent(contact.email);
    const url = `/proposals/${proposal.id}/partner/${partner.id}`;
    const page = await c.get(url);
    expect(page.text).to.contain('已确认').and.contain('name="a.2.materials" value="12,345.67"');
    const csrf = await tokenFrom(c, url);
    const save = await c.post(url).type('form').send({ _csrf: csrf, 'a.2.materials': '12,345.67', 'a.1.labour': '300', selfFunded: '0' });
    expect(save.status).to.equal(303);
    const after = (await ProposalPartner.findByPk(partner.id))!;
    expect(after.confirmedAt).to.equal(null);
    const ev = (await AuditEvent.findOne({ where: { action: 'proposal.save_budget' } }))!;
    expect(JSON.parse(ev.afterJson!).confirmationReset).to.equal(true);
    expect(await BudgetLine.count({ where: { partnerId: partner.id } })).to.equal(2);

    const confirm = await c.post(`${url}/confirm`).type('form').send({ _csrf: csrf });
    expect(confirm.status).to.equal(303);
    const confirmed = (await ProposalPartner.findByPk(partner.id))!;
    expect(confirmed.confirmedAt).to.not.equal(null);
    expect(confirmed.confirmedBy).to.equal(contact.id);
  });

  it("the PI's change to a partner's lines resets that partner's confirmation (and only that partner's); an unchanged save does not", async () => {
    const { proposal, pi, partner, lead } = await makeCompleteDraft();
    const a = await signedInAgent(pi.email);
    const csrf = await tokenFrom(a, `/proposals/${proposal.id}/edit/budget`);
    // Saving the lead's lines leaves the partner confirmed.
    await a.post(`/proposals/${proposal.id}/edit/budget`).type('form').send({ _csrf: csrf, partnerId: lead.id, 'a.1.equipment': '600000' });
    expect((await ProposalPartner.findByPk(partner.id))!.confirmedAt).to.not.equal(null);
    // The same values for the partner: nothing changes, the confirmation stays.
    await a.post(`/proposals/${proposal.id}/edit/budget`).type('form').send({ _csrf: csrf, partnerId: partner.id, 'a.2.materials': '12345.67', selfFunded: '' });
    expect((await ProposalPartner.findByPk(partner.id))!.confirmedAt).to.not.equal(null);
    // A real change resets it, and the submit step says a partner has not confirmed.
    const res = await a.post(`/proposals/${proposal.id}/edit/budget`).type('form').send({ _csrf: csrf, partnerId: partner.id, 'a.2.materials': '12345.68' });
    expect(res.status).to.equal(303);
    expect((await ProposalPartner.findByPk(partner.id))!.confirmedAt).to.equal(null);
    const submit = await a.get(`/proposals/${proposal.id}/edit/submit`);
    expect(submit.text).to.contain('尚有 1 家未确认');
  });

  it('nothing can be confirmed or changed once the proposal is submitted', async () => {
    const { proposal, contact, partner } = await makeCompleteDraft({ confirmed: false });
    await Proposal.update({ status: 'submitted', receiptNo: 'YRD-T-1', submittedAt: new Date() }, { where: { id: proposal.id } });
    const c = await signedInAgent(contact.email);
    const url = `/proposals/${proposal.id}/partner/${partner.id}`;
    const page = await c.get(url);
    expect(page.status).to.equal(200);
    expect(page.text).to.not.contain(`action="${url}/confirm"`);
    const csrf = await tokenFrom(c, '/proposals');
    expect((await c.post(`${url}/confirm`).type('form').send({ _csrf: csrf })).status).to.equal(403);
    expect((await c.post(url).type('form').send({ _csrf: csrf, 'a.1.equipment': '1' })).status).to.equal(403);
    expect((await ProposalPartner.findByPk(partner.id))!.confirmedAt).to.equal(null);
  });
});
