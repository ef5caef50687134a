import { expect } from 'chai';
import { CallSubscription } from '../../server/calls/models.js';
import { OutboxMessage } from '../../server/platform/mail/outbox.js';
import { resetDb } from '../support/platform.js';
import { makeUser } from '../support/factories.js';
import { csrfFrom, newAgent, signedInAgent } from '../support/agent.js';
import { DAY, makeCall, officer } from './helpers.js';

describe('public call pages', () => {
  beforeEach(resetDb);

  it('lets an anonymous visitor read a published call: topics, dates in Beijing time, rules, pledges and total', async () => {
    const call = await makeCall({ status: 'published', deadlineAt: new Date('2099-06-30T09:00:00Z'), pledges: { SH: 300_000_000, JS: 150_000_050 } });
    const res = await (await newAgent()).get(`/calls/${call.id}`);
    expect(res.status).to.equal(200);
    expect(res.text).to.contain(call.titleZh).and.contain('方向1');
    expect(res.text).to.contain('2099/06/30 17:00:00'); // 09:00Z shown in Asia/Shanghai
    expect(res.text).to.contain('联合体成员须来自至少 2 个省市').and.contain('每位项目负责人在本指南下最多有 1 项有效申报');
    expect(res.text).to.contain('3,000,000.00').and.contain('1,500,000.50').and.contain('4,500,000.50');
    expect(res.text).to.contain('申报书正文');
    expect(res.text).to.contain('登录后申报').and.not.contain(`action="/calls/${call.id}/proposals"`);
    expect(res.text).to.contain('第一段。<br>第二行。');
  });

  it('hides drafts from visitors and applicants (404, not listed) but shows them to officers', async () => {
    const draft = await makeCall({ titleZh: '尚未发布的草稿指南' });
    const visitor = await newAgent();
    expect((await visitor.get(`/calls/${draft.id}`)).status).to.equal(404);
    expect((await visitor.get('/calls')).text).not.to.contain('尚未发布的草稿指南');
    const pi = await signedInAgent((await makeUser()).email);
    expect((await pi.get(`/calls/${draft.id}`)).status).to.equal(404);
    const off = await signedInAgent((await officer('JS')).email);
    expect((await off.get(`/calls/${draft.id}`)).status).to.equal(200);
    const list = await off.get('/calls');
    expect(list.text).to.contain('尚未发布的草稿指南').and.contain(`href="/calls/${draft.id}/edit"`);
    expect((await visitor.get('/calls/abc')).status).to.equal(404);
    expect((await visitor.get('/calls/999999')).status).to.equal(404);
  });

  it('lists public calls with status, deadline in Beijing time and a countdown; open ones first', async () => {
    const closed = await makeCall({ status: 'closed', titleZh: '已截止的指南', deadlineAt: new Date(Date.now() - 2 * DAY) });
    const open = await makeCall({ status: 'published', titleZh: '开放中的指南', deadlineAt: new Date(Date.now() + 3 * DAY + 5 * 3600_000 + 60_000) });
    const archived = await makeCall({ status: 'archived', titleZh: '已归档的指南' });
    void closed;
    void archived;
    const res = await (await newAgent()).get('/calls');
    expect(res.status).to.equal(200);
    expect(res.text.indexOf('开放中的指南')).to.be.lessThan(res.text.indexOf('已截止的指南'));
    expect(res.text).to.contain('距截止还有 3 天 5 小时').and.contain('申报中').and.contain('已截止');
    expect(res.text).not.to.contain('已归档的指南');
    const en = await newAgent();
    await en.get('/calls');
    const row = await en.get('/calls').set('Cookie', 'yrd.lang=en');
    expect(row.text).to.contain('3 d 5 h left');
    void open;
  });

  it('shows a script typed into a title, body or topic as text, on the list, the call page and in the mail', async () => {
    const payload = '<script>alert(1)</script>';
    const sub = await makeUser({ email: 'sub@example.org' });
    await CallSubscription.create({ userId: sub.id });
    const call = await makeCall({ titleZh: `标题${payload}` });
    await call.update({ bodyZh: `正文${payload}` });
    const agent = await signedInAgent((await officer('SH')).email);
    const r = await agent.post(`/calls/${call.id}/transition`).type('form').send({ _csrf: await csrfFrom(agent, '/calls'), to: 'published' });
    expect(r.status).to.equal(303);
    for (const path of ['/calls', `/calls/${call.id}`, `/calls/${call.id}/edit`]) {
      const res = await agent.get(path);
      expect(res.text, path).not.to.contain(payload);
      expect(res.text, path).to.contain('&lt;script&gt;alert(1)&lt;/script&gt;');
    }
    const mail = (await OutboxMessage.findOne())!;
    expect(mail.htmlBody).not.to.contain(payload);
    expect(mail.htmlBody).to.contain('&lt;script&gt;');
  });

  it('offers "start a proposal" to a signed-in user only while the window is open', async () => {
    const open = await makeCall({ status: 'published' });
    const notYet = await makeCall({ status: 'published', opensAt: new Date(Date.now() + DAY), deadlineAt: new Date(Date.now() + 5 * DAY) });
    const past = await makeCall({ status: 'published', deadlineAt: new Date(Date.now() - 1000) });
    const pi = await signedInAgent((await makeUser()).email);
    expect((await pi.get(`/calls/${open.id}`)).text).to.contain(`action="/calls/${open.id}/proposals"`);
    const ny = await pi.get(`/calls/${notYet.id}`);
    expect(ny.text).not.to.contain(`action="/calls/${notYet.id}/proposals"`);
    expect(ny.text).to.contain('距开始申报还有');
    const p = await pi.get(`/calls/${past.id}`);
    expect(p.text).not.to.contain(`action="/calls/${past.id}/proposals"`);
    expect(p.text).to.contain('已截止');
  });

  it('lets a signed-in user subscribe and unsubscribe from the calls list (idempotent); visitors cannot', async () => {
    const user = await makeUser();
    const agent = await signedInAgent(user.email);
    const token = await csrfFrom(agent, '/calls');
    expect((await agent.get('/calls')).text).to.contain('订阅新指南通知');
    for (let i = 0; i < 2; i++) expect((await agent.post('/calls/subscription').type('form').send({ _csrf: token, subscribe: '1' })).status).to.equal(303);
    expect(await CallSubscription.count({ where: { userId: user.id } })).to.equal(1);
    expect((await agent.get('/calls')).text).to.contain('您已订阅新指南发布通知');
    await agent.post('/calls/subscription').type('form').send({ _csrf: token, subscribe: '0' });
    expect(await CallSubscription.count()).to.equal(0);
    const visitor = await newAgent();
    const vt = await csrfFrom(visitor, '/calls');
    expect((await visitor.post('/calls/subscription').type('form').send({ _csrf: vt, subscribe: '1' })).status).to.equal(401);
    expect(await CallSubscription.count()).to.equal(0);
  });

  it("gives officers a list of the calls they created (?mine=1)", async () => {
    const me = await officer('SH');
    const other = await makeCall({ status: 'published', titleZh: '别人创建的指南' });
    const mine = await makeCall({ status: 'published', titleZh: '我创建的指南' });
    await mine.update({ createdBy: me.id });
    void other;
    const agent = await signedInAgent(me.email);
    const res = await agent.get('/calls?mine=1');
    expect(res.text).to.contain('我创建的指南').and.not.contain('别人创建的指南');
    // For anyone else ?mine=1 is just the public list.
    expect((await (await newAgent()).get('/calls?mine=1')).text).to.contain('别人创建的指南');
  });
});
