import { expect } from 'chai';
import { Call, CallPledge } from '../../server/calls/models.js';
import { AuditEvent } from '../../server/platform/audit.js';
import { resetDb } from '../support/platform.js';
import { makeUser } from '../support/factories.js';
import { csrfFrom, signedInAgent } from '../support/agent.js';
import { makeCall, officer } from './helpers.js';

const pledgeOf = async (callId: number, provinceCode: string) => (await CallPledge.findOne({ where: { callId, provinceCode } }))?.amountFen ?? null;

describe('call pledges', () => {
  beforeEach(resetDb);

  it("lets an officer set their own province's pledge in 元, stored in fen and audited", async () => {
    const call = await makeCall({ pledges: {} });
    const sh = await officer('SH');
    const agent = await signedInAgent(sh.email);
    const page = await agent.get(`/calls/${call.id}/edit`);
    expect(page.text).to.contain('id="pledge-SH"').and.not.contain('id="pledge-JS"');
    const res = await agent.post(`/calls/${call.id}/pledges/SH`).type('form').send({ _csrf: await csrfFrom(agent, '/calls'), amountYuan: '12,345,678.90' });
    expect(res.status).to.equal(303);
    expect(await pledgeOf(call.id, 'SH')).to.equal(1_234_567_890);
    const after = await agent.get(`/calls/${call.id}`);
    expect(after.text).to.contain('12,345,678.90');
    const ev = await AuditEvent.findOne({ where: { action: 'call.pledge.set' } });
    expect(JSON.parse(ev!.afterJson!)).to.deep.equal({ provinceCode: 'SH', amountFen: 1_234_567_890 });
    expect(ev!.actorId).to.equal(sh.id);
  });

  it("refuses an officer of SH who posts Jiangsu's pledge (403 with the reason), even with forged ids in the body", async () => {
    const call = await makeCall({ pledges: { JS: 500_000_000 } });
    const agent = await signedInAgent((await officer('SH')).email);
    const token = await csrfFrom(agent, '/calls');
    const res = await agent.post(`/calls/${call.id}/pledges/JS`).type('form').send({ _csrf: token, amountYuan: '1', provinceCode: 'SH', province: 'SH', callId: String(call.id) });
    expect(res.status).to.equal(403);
    expect(res.text).to.contain('您只能填写本省市的经费承诺');
    expect(await pledgeOf(call.id, 'JS')).to.equal(500_000_000);
    // The province in the body never redirects a write: posting to SH with JS in the body changes SH only.
    const own = await agent.post(`/calls/${call.id}/pledges/SH`).type('form').send({ _csrf: token, amountYuan: '7', provinceCode: 'JS', province: 'JS' });
    expect(own.status).to.equal(303);
    expect(await pledgeOf(call.id, 'JS')).to.equal(500_000_000);
    expect(await pledgeOf(call.id, 'SH')).to.equal(700);
  });

  it('refuses admins and applicants: pledges are entered only by an officer of the province', async () => {
    const call = await makeCall({ pledges: {} });
    for (const roles of [[{ role: 'admin' as const }], [{ role: 'applicant' as const }]]) {
      const agent = await signedInAgent((await makeUser({ roles })).email);
      const res = await agent.post(`/calls/${call.id}/pledges/SH`).type('form').send({ _csrf: await csrfFrom(agent, '/calls'), amountYuan: '100' });
      expect(res.status).to.equal(403);
      expect(res.text).to.contain('经费承诺只能由相应省市的项目主管填写');
    }
    expect(await CallPledge.count()).to.equal(0);
  });

  it('ignores mass-assigned committed amounts and status in a pledge form', async () => {
    const call = await makeCall({ pledges: { ZJ: 1_000 } });
    const agent = await signedInAgent((await officer('ZJ')).email);
    const res = await agent
      .post(`/calls/${call.id}/pledges/ZJ`)
      .type('form')
      .send({ _csrf: await csrfFrom(agent, '/calls'), amountYuan: '50', committedFen: '40', committed_fen: '40', amountFen: '999999', status: 'decided', enteredBy: '1' });
    expect(res.status).to.equal(303);
    const p = (await CallPledge.findOne({ where: { callId: call.id, provinceCode: 'ZJ' } }))!;
    expect(p.amountFen).to.equal(5_000);
    expect(p.committedFen).to.equal(0);
    expect((await Call.findByPk(call.id))!.status).to.equal('draft');
  });

  it('refuses to lower a pledge below what is already committed, and says so next to the field', async () => {
    const call = await makeCall({ status: 'in_review', pledges: { AH: 1_000_000 } });
    await CallPledge.update({ committedFen: 800_000 }, { where: { callId: call.id, provinceCode: 'AH' } });
    const agent = await signedInAgent((await officer('AH')).email);
    const token = await csrfFrom(agent, '/calls');
    const res = await agent.post(`/calls/${call.id}/pledges/AH`).type('form').send({ _csrf: token, amountYuan: '7999.99' });
    expect(res.status).to.equal(400);
    expect(res.text).to.match(/id="pledge-AH-error"[^>]*>承诺金额不能低于已分配的金额/);
    expect(res.text).to.contain('value="7999.99"');
    expect(await pledgeOf(call.id, 'AH')).to.equal(1_000_000);
    // Exactly the committed amount, or the same amount again, is fine.
    expect((await agent.post(`/calls/${call.id}/pledges/AH`).type('form').send({ _csrf: token, amountYuan: '8000' })).status).to.equal(303);
    expect((await agent.post(`/calls/${call.id}/pledges/AH`).type('form').send({ _csrf: token, amountYuan: '8000' })).status).to.equal(303);
    expect(await pledgeOf(call.id, 'AH')).to.equal(800_000);
  });

  it('keeps pledges editable after publishing (top-ups), but not once archived; bad amounts are a 400', async () => {
    const published = await makeCall({ status: 'published', pledges: { SH: 100 } });
    const archived = await makeCall({ status: 'archived', pledges: { SH: 100 } });
    const agent = await signedInAgent((await officer('SH')).email);
    const token = await csrfFrom(agent, '/calls');
    expect((await agent.post(`/calls/${published.id}/pledges/SH`).type('form').send({ _csrf: token, amountYuan: '2' })).status).to.equal(303);
    expect(await pledgeOf(published.id, 'SH')).to.equal(200);
    const locked = await agent.post(`/calls/${archived.id}/pledges/SH`).type('form').send({ _csrf: token, amountYuan: '2' });
    expect(locked.status).to.equal(403);
    expect(await pledgeOf(archived.id, 'SH')).to.equal(100);
    for (const bad of ['-1', '1.234', 'abc', '']) {
      const r = await agent.post(`/calls/${published.id}/pledges/SH`).type('form').send({ _csrf: token, amountYuan: bad });
      expect(r.status, bad).to.equal(400);
    }
    expect(await pledgeOf(published.id, 'SH')).to.equal(200);
  });

  it('a call that does not exist is a 404; a province that is not yours (or not a province) is a 403', async () => {
    const call = await makeCall();
    const sh = await signedInAgent((await officer('SH')).email);
    const token = await csrfFrom(sh, '/calls');
    expect((await sh.post('/calls/999999/pledges/SH').type('form').send({ _csrf: token, amountYuan: '1' })).status).to.equal(404);
    expect((await sh.post(`/calls/${call.id}/pledges/XX`).type('form').send({ _csrf: token, amountYuan: '1' })).status).to.equal(403);
    expect(await CallPledge.count({ where: { provinceCode: 'XX' } })).to.equal(0);
  });
});
