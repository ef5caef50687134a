import { expect } from 'chai';
import { OutboxMessage } from '../../server/platform/mail/outbox.js';
import { AuditEvent } from '../../server/platform/audit.js';
import { BudgetLine, Proposal, ProposalPartner } from '../../server/proposals/models.js';
import { resetDb } from '../support/platform.js';
import { makeInstitution, makeUser } from '../support/factories.js';
import { makeCall } from '../support/call-factories.js';
import { signedInAgent } from '../support/agent.js';
import { ABSTRACT, makeCompleteDraft, tokenFrom } from './helpers.js';

describe('proposal editor', () => {
  beforeEach(resetDb);

  it('starts a draft for an open call with the PI and their institution as lead, then keeps every step', async () => {
    const inst = await makeInstitution({ provinceCode: 'ZJ' });
    const pi = await makeUser({ email: 'pi@example.org', institutionId: inst.id });
    const call = await makeCall();
    const agent = await signedInAgent(pi.email);
    const token = await tokenFrom(agent, '/proposals');
    const res = await agent.post(`/calls/${call.id}/proposals`).type('form').send({ _csrf: token });
    expect(res.status).to.equal(303);
    const m = /^\/proposals\/(\d+)\/edit\/basic$/.exec(res.headers.location);
    expect(m, res.headers.location).to.not.equal(null);
    const id = Number(m![1]);
    const p = await Proposal.findByPk(id);
    expect(p!.piUserId).to.equal(pi.id);
    expect(p!.leadInstitutionId).to.equal(inst.id);
    const lead = await ProposalPartner.findOne({ where: { proposalId: id, isLead: true } });
    expect(lead!.provinceCode).to.equal('ZJ');
    expect(lead!.contactUserId).to.equal(pi.id);

    const page = await agent.get(`/proposals/${id}/edit/basic`);
    expect(page.status).to.equal(200);
    expect(page.text).to.match(/<a href="\/proposals\/\d+\/edit\/basic" aria-current="step">/);
    expect(page.text).to.contain('填写项目名称').and.contain(`href="/proposals/${id}/edit/basic"`);

    const topicId = /<option value="(\d+)">T1 /.exec(page.text)![1];
    const save = await agent
      .post(`/proposals/${id}/edit/basic`)
      .type('form')
      .send({ _csrf: await tokenFrom(agent, `/proposals/${id}/edit/basic`), title: '联合攻关', topicId, abstract: ABSTRACT, keywords: '封装', durationMonths: '24' });
    expect(save.status).to.equal(303);
    expect(save.headers.location).to.equal(`/proposals/${id}/edit/consortium`);
    // Leaving and coming back: the saved values are there.
    const again = await agent.get(`/proposals/${id}/edit/basic`);
    expect(again.text).to.contain('value="联合攻关"').and.contain(`<option value="${topicId}" selected>`).and.contain('value="24"');
    expect(await AuditEvent.count({ where: { action: 'proposal.save_basic', entityId: String(id) } })).to.equal(1);
  });

  it('keeps what was typed and shows the error next to the field on bad input (400)', async () => {
    const { proposal, pi } = await makeCompleteDraft();
    const agent = await signedInAgent(pi.email);
    const res = await agent
      .post(`/proposals/${proposal.id}/edit/basic`)
      .type('form')
      .send({ _csrf: await tokenFrom(agent, `/proposals/${proposal.id}/edit/basic`), title: '新的名称', durationMonths: 'abc', abstract: '摘要保留' });
    expect(res.status).to.equal(400);
    expect(res.text).to.match(/id="f-durationMonths-error"[^>]*>请填写 1–120/);
    expect(res.text).to.contain('value="新的名称"').and.contain('摘要保留');
    expect((await Proposal.findByPk(proposal.id))!.title).to.equal('长三角先进封装可靠性联合攻关');
  });

  it('shows a script in the title as text everywhere', async () => {
    const { proposal, pi } = await makeCompleteDraft();
    await Proposal.update({ title: '<script>alert(1)</script>' }, { where: { id: proposal.id } });
    const agent = await signedInAgent(pi.email);
    for (const path of [`/proposals/${proposal.id}`, `/proposals/${proposal.id}/edit/basic`, '/proposals']) {
      const res = await agent.get(path);
      expect(res.status, path).to.equal(200);
      expect(res.text, path).to.not.contain('<script>alert(1)</script>');
      expect(res.text, path).to.contain('&lt;script&gt;alert(1)&lt;/script&gt;');
    }
  });

  it('adds a partner from the registry with its registered contact, province from the institution, and mails the contact', async () => {
    const { proposal, pi } = await makeCompleteDraft();
    const inst = await makeInstitution({ provinceCode: 'AH' });
    await makeUser({ email: 'contact@example.org', name: '李四', institutionId: inst.id });
    const agent = await signedInAgent(pi.email);
    const res = await agent
      .post(`/proposals/${proposal.id}/edit/consortium`)
      .type('form')
      .send({ _csrf: await tokenFrom(agent, `/proposals/${proposal.id}/edit/consortium`), institutionId: inst.id, contactEmail: 'Contact@Example.org', role: '算法', provinceCode: 'SH' });
    expect(res.status).to.equal(303);
    const row = await ProposalPartner.findOne({ where: { proposalId: proposal.id, institutionId: inst.id } });
    expect(row!.provinceCode).to.equal('AH');
    const mail = await OutboxMessage.findOne({ where: { template: 'partner-invited' } });
    expect(mail!.toAddress).to.equal('contact@example.org');
    expect(mail!.textBody).to.contain(`/proposals/${proposal.id}/partner/${row!.id}`);
  });

  it('asks the PI to have an unregistered contact register first (field error, nothing added)', async () => {
    const { proposal, pi } = await makeCompleteDraft();
    const inst = await makeInstitution({ provinceCode: 'AH' });
    const agent = await signedInAgent(pi.email);
    const res = await agent
      .post(`/proposals/${proposal.id}/edit/consortium`)
      .type('form')
      .send({ _csrf: await tokenFrom(agent, `/proposals/${proposal.id}/edit/consortium`), institutionId: inst.id, contactEmail: 'nobody@example.org' });
    expect(res.status).to.equal(400);
    expect(res.text).to.match(/id="f-contactEmail-error"[^>]*>该邮箱尚未在平台注册/);
    expect(res.text).to.contain('value="nobody@example.org"');
    expect(await ProposalPartner.count({ where: { proposalId: proposal.id } })).to.equal(2);
  });

  it('saves budget lines in fen from 元 and shows totals per partner, year and province', async () => {
    const { proposal, pi, lead } = await makeCompleteDraft();
    const agent = await signedInAgent(pi.email);
    const token = await tokenFrom(agent, `/proposals/${proposal.id}/edit/budget`);
    const res = await agent
      .post(`/proposals/${proposal.id}/edit/budget`)
      .type('form')
      .send({ _csrf: token, partnerId: lead.id, 'a.1.equipment': '1,000.50', 'a.2.labour': '0.07', 'a.1.materials': '', selfFunded: '200' });
    expect(res.status).to.equal(303);
    const lines = await BudgetLine.findAll({ where: { partnerId: lead.id }, order: [['year', 'ASC']], raw: true });
    expect(lines.map((l) => [l.year, l.category, Number(l.amountFen)])).to.deep.equal([
      [1, 'equipment', 100050],
      [2, 'labour', 7],
    ]);
    const page = await agent.get(`/proposals/${proposal.id}/edit/budget`);
    // Lead (SH) 1,000.57 + partner (JS) 12,345.67 = 13,346.24
    expect(page.text).to.contain('data-total="requested">13,346.24<');
    expect(page.text).to.contain('data-province="SH">1,000.57<').and.contain('data-province="JS">12,345.67<');
    const bad = await agent.post(`/proposals/${proposal.id}/edit/budget`).type('form').send({ _csrf: token, partnerId: lead.id, 'a.1.equipment': '1.234', 'a.1.travel': '12' });
    expect(bad.status).to.equal(400);
    expect(bad.text).to.contain('value="1.234"').and.contain('value="12"').and.contain('aria-invalid="true"');
  });

  it('saves up to three reviewer exclusions, each needing a reason', async () => {
    const { proposal, pi } = await makeCompleteDraft();
    const agent = await signedInAgent(pi.email);
    const token = await tokenFrom(agent, `/proposals/${proposal.id}/edit/exclusions`);
    const bad = await agent.post(`/proposals/${proposal.id}/edit/exclusions`).type('form').send({ _csrf: token, name1: '王五' });
    expect(bad.status).to.equal(400);
    expect(bad.text).to.match(/id="f-reason1-error"[^>]*>请说明回避理由/);
    const ok = await agent.post(`/proposals/${proposal.id}/edit/exclusions`).type('form').send({ _csrf: token, name1: '王五', institution1: '某大学', reason1: '竞争关系', name4: 'ignored', reason4: 'x' });
    expect(ok.status).to.equal(303);
    const show = await agent.get(`/proposals/${proposal.id}`);
    expect(show.text).to.contain('王五').and.contain('竞争关系').and.not.contain('ignored');
  });

  it('lists my proposals as PI and as a partner contact', async () => {
    const { proposal, pi, contact, partner } = await makeCompleteDraft();
    const a = await signedInAgent(pi.email);
    expect((await a.get('/proposals')).text).to.contain(`/proposals/${proposal.id}/edit`);
    const b = await signedInAgent(contact.email);
    expect((await b.get('/proposals')).text).to.contain(`/proposals/${proposal.id}/partner/${partner.id}`);
  });

  it('lets a PI without an institution choose the lead institution (province from the registry)', async () => {
    const pi = await makeUser({ email: 'nolead@example.org' });
    const inst = await makeInstitution({ provinceCode: 'AH' });
    const call = await makeCall();
    const agent = await signedInAgent(pi.email);
    const start = await agent.post(`/calls/${call.id}/proposals`).type('form').send({ _csrf: await tokenFrom(agent, '/proposals') });
    const id = Number(/\/proposals\/(\d+)\//.exec(start.headers.location)![1]);
    expect(await ProposalPartner.count({ where: { proposalId: id } })).to.equal(0);
    const page = await agent.get(`/proposals/${id}/edit/consortium`);
    expect(page.text).to.contain(`action="/proposals/${id}/edit/consortium/lead"`).and.contain('href="/institutions/request"');
    const csrf = await tokenFrom(agent, `/proposals/${id}/edit/consortium`);
    const bad = await agent.post(`/proposals/${id}/edit/consortium/lead`).type('form').send({ _csrf: csrf, leadInstitutionId: '999999' });
    expect(bad.status).to.equal(400);
    expect(bad.text).to.match(/id="f-leadInstitutionId-error"[^>]*>请从单位库中选择单位/);
    const ok = await agent.post(`/proposals/${id}/edit/consortium/lead`).type('form').send({ _csrf: csrf, leadInstitutionId: String(inst.id) });
    expect(ok.status).to.equal(303);
    const lead = (await ProposalPartner.findOne({ where: { proposalId: id, isLead: true } }))!;
    expect([lead.institutionId, lead.provinceCode, lead.contactUserId]).to.deep.equal([inst.id, 'AH', pi.id]);
    expect((await Proposal.findByPk(id))!.leadInstitutionId).to.equal(inst.id);
  });

  it('refuses to start a draft for a closed call', async () => {
    const pi = await makeUser();
    const call = await makeCall({ deadlineAt: new Date(Date.now() - 1000) });
    const agent = await signedInAgent(pi.email);
    const res = await agent.post(`/calls/${call.id}/proposals`).type('form').send({ _csrf: await tokenFrom(agent, '/proposals') });
    expect(res.status).to.equal(403);
    expect(await Proposal.count()).to.equal(0);
  });
});
