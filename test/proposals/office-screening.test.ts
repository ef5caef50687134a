import { expect } from 'chai';
import { Call } from '../../server/calls/models.js';
import { AuditEvent } from '../../server/platform/audit.js';
import { OutboxMessage } from '../../server/platform/mail/outbox.js';
import { Proposal } from '../../server/proposals/models.js';
import { DEFAULT_FILTERS, screeningRows } from '../../server/proposals/screening-query.js';
import { callScopes } from '../../server/proposals/screening-service.js';
import { csrfFrom, postForm, signedInAgent, type Agent } from '../support/agent.js';
import { makeCall } from '../support/call-factories.js';
import { makeInstitution, makeUser } from '../support/factories.js';
import { platform, resetDb } from '../support/platform.js';
import { makeSubmittedProposal } from '../support/proposal-factories.js';

const ids = (html: string) => [...html.matchAll(/data-proposal-id="(\d+)"/g)].map((m) => Number(m[1]));

async function world() {
  const [sh, js, zj, ah, shEnterprise] = await Promise.all([
    makeInstitution({ provinceCode: 'SH', nameZh: '上海测试大学' }),
    makeInstitution({ provinceCode: 'JS', nameZh: '江苏测试大学' }),
    makeInstitution({ provinceCode: 'ZJ', nameZh: '浙江测试研究院', type: 'institute' }),
    makeInstitution({ provinceCode: 'AH', nameZh: '安徽测试大学' }),
    makeInstitution({ provinceCode: 'SH', nameZh: '上海测试科技有限公司', type: 'enterprise' }),
  ]);
  const pi = await makeUser({ email: 'pi@example.org', name: '申请人甲', institutionId: sh.id });
  const officerSH = await makeUser({ email: 'officer.sh@example.org', roles: [{ role: 'officer', provinceCode: 'SH' }] });
  const officerAH = await makeUser({ email: 'officer.ah@example.org', roles: [{ role: 'officer', provinceCode: 'AH' }] });
  return { sh, js, zj, ah, shEnterprise, pi, officerSH, officerAH };
}

describe('screening (形式审查): who sees what', () => {
  beforeEach(resetDb);

  it('an Anhui officer cannot see a proposal with no Anhui partner: not in the list, detail 404, decision 404, not exported', async () => {
    const w = await world();
    const call = await makeCall();
    const { proposal: noAnhui } = await makeSubmittedProposal({ call, pi: w.pi, title: '沪苏两地联合项目', partners: [{ institution: w.sh }, { institution: w.js }] });
    const other = await makeUser();
    const { proposal: withAnhui } = await makeSubmittedProposal({ call, pi: other, title: '苏皖两地联合项目', partners: [{ institution: w.js }, { institution: w.ah }] });
    const agent = await signedInAgent(w.officerAH.email);

    const list = await agent.get('/screening');
    expect(list.status).to.equal(200);
    expect(ids(list.text)).to.deep.equal([withAnhui.id]);
    expect(list.text).to.not.contain('沪苏两地联合项目');

    expect((await agent.get(`/screening/${noAnhui.id}`)).status).to.equal(404);
    expect((await agent.get(`/screening/${withAnhui.id}`)).status).to.equal(200);
    const token = await csrfFrom(agent, '/screening');
    const decision = await agent.post(`/screening/${noAnhui.id}/decision`).type('form').send({ _csrf: token, decision: 'ineligible', reason: '越权' });
    expect(decision.status).to.equal(404);
    expect((await Proposal.findByPk(noAnhui.id))!.status).to.equal('submitted');

    for (const format of ['csv', 'xlsx']) {
      const res = await agent.get(`/screening/export.${format}`).buffer(true).parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => cb(null, Buffer.concat(chunks)));
      });
      expect(res.status).to.equal(200);
      if (format === 'csv') {
        const text = (res.body as Buffer).toString('utf8');
        expect(text).to.contain('苏皖两地联合项目').and.not.contain('沪苏两地联合项目');
      }
    }
  });

  it('a Shanghai officer sees a proposal with a Shanghai partner even when it is led from Jiangsu', async () => {
    const w = await world();
    const call = await makeCall();
    const { proposal } = await makeSubmittedProposal({ call, pi: w.pi, title: '江苏牵头上海参与', partners: [{ institution: w.js }, { institution: w.sh }] });
    const agent = await signedInAgent(w.officerSH.email);
    const list = await agent.get('/screening');
    expect(ids(list.text)).to.deep.equal([proposal.id]);
    expect(list.text).to.contain('江苏测试大学');
    const detail = await agent.get(`/screening/${proposal.id}`);
    expect(detail.status).to.equal(200);
    expect(detail.text).to.contain('江苏牵头上海参与').and.contain(`href="/proposals/${proposal.id}"`);
  });

  it('proposals awaiting host-institution endorsement, drafts and other roles stay out of screening', async () => {
    const w = await world();
    const call = await makeCall({ endorsementRequired: true });
    const { proposal: waiting } = await makeSubmittedProposal({ call, pi: w.pi, status: 'submitted', partners: [{ institution: w.sh }, { institution: w.js }] });
    const { proposal: endorsed } = await makeSubmittedProposal({ call, pi: await makeUser(), status: 'endorsed', partners: [{ institution: w.sh }, { institution: w.js }] });
    await makeSubmittedProposal({ call, pi: await makeUser(), status: 'draft', partners: [{ institution: w.sh }, { institution: w.js }] });
    const agent = await signedInAgent(w.officerSH.email);
    expect(ids((await agent.get('/screening')).text)).to.deep.equal([endorsed.id]);
    expect((await agent.get(`/screening/${waiting.id}`)).status).to.equal(404);
    const applicant = await signedInAgent(w.pi.email);
    expect((await applicant.get('/screening')).status).to.equal(403);
    expect((await applicant.get(`/screening/${endorsed.id}`)).status).to.equal(403);
    expect((await applicant.get('/screening/export.csv')).status).to.equal(403);
  });
});

describe('screening list: filters, sort, pagination', () => {
  let w: Awaited<ReturnType<typeof world>>;
  let agent: Agent;
  let call: Call;
  beforeEach(async () => {
    await resetDb();
    w = await world();
    call = await makeCall({ rules: { maxTotalRequestFen: 300_000_000 } });
    agent = await signedInAgent(w.officerSH.email);
  });

  it('pages 50 rows at a time and counts them all', async function () {
    this.timeout(60_000);
    for (let i = 0; i < 53; i++) {
      await makeSubmittedProposal({ call, pi: w.pi, title: `分页项目${String(i).padStart(2, '0')}`, partners: [{ institution: w.sh }, { institution: w.js }] });
    }
    const first = await agent.get('/screening');
    expect(ids(first.text)).to.have.length(50);
    expect(first.text).to.contain('共 53 份申报书').and.contain('rel="next"');
    const second = await agent.get('/screening?page=2');
    expect(ids(second.text)).to.have.length(3);
    expect(new Set([...ids(first.text), ...ids(second.text)]).size).to.equal(53);
  });

  it('filters by call, status, province, lead type, text and escapes LIKE wildcards', async () => {
    const otherCall = await makeCall();
    const a = (await makeSubmittedProposal({ call, pi: await makeUser(), title: '集成电路100%国产化', partners: [{ institution: w.sh }, { institution: w.zj }] })).proposal;
    const b = (await makeSubmittedProposal({ call, pi: await makeUser(), title: '生物医药协同', status: 'eligible', partners: [{ institution: w.zj }, { institution: w.sh }] })).proposal;
    const c = (await makeSubmittedProposal({ call: otherCall, pi: await makeUser(), title: '智慧城市治理', partners: [{ institution: w.sh }, { institution: w.js }] })).proposal;
    const list = async (q: string) => ids((await agent.get(`/screening?${q}`)).text).sort((x, y) => x - y);
    expect(await list(`call=${call.id}`)).to.deep.equal([a.id, b.id]);
    expect(await list('status=eligible')).to.deep.equal([b.id]);
    expect(await list('province=JS')).to.deep.equal([c.id]);
    expect(await list('leadType=institute')).to.deep.equal([b.id]);
    expect(await list(`q=${encodeURIComponent('生物')}`)).to.deep.equal([b.id]);
    expect(await list(`q=${encodeURIComponent('100%')}`)).to.deep.equal([a.id]);
    expect(await list(`q=${encodeURIComponent('%')}`)).to.deep.equal([a.id]);
    expect(await list(`q=${encodeURIComponent('_')}`)).to.deep.equal([]);
    const receipt = (await Proposal.findByPk(c.id))!.receiptNo!;
    expect(await list(`q=${encodeURIComponent(receipt)}`)).to.deep.equal([c.id]);
  });

  it('sorts by title, total request and receipt from an allowlist; anything else is a 400, never SQL', async () => {
    const mk = (title: string, requestedFen: number) => makeSubmittedProposal({ call, pi: w.pi, title, partners: [{ institution: w.sh, requestedFen }, { institution: w.js, requestedFen: 0 }] }).then((x) => x.proposal);
    const b = await mk('B项目', 30_000_000);
    const a = await mk('A项目', 10_000_000);
    const c = await mk('C项目', 20_000_000);
    expect(ids((await agent.get('/screening?sort=title&dir=asc')).text)).to.deep.equal([a.id, b.id, c.id]);
    expect(ids((await agent.get('/screening?sort=total')).text)).to.deep.equal([b.id, c.id, a.id]);
    expect(ids((await agent.get('/screening?sort=total&dir=asc')).text)).to.deep.equal([a.id, c.id, b.id]);
    expect(ids((await agent.get('/screening?sort=receipt&dir=asc')).text)).to.deep.equal([b.id, a.id, c.id]);
    const list = await agent.get('/screening?sort=total');
    expect(list.text).to.contain('300,000.00').and.contain('100,000.00');
    for (const bad of ['p.id', 'title;DROP TABLE proposals', 'submitted_at', '(SELECT 1)']) {
      const res = await agent.get(`/screening?sort=${encodeURIComponent(bad)}`);
      expect(res.status, bad).to.equal(400);
      expect(ids(res.text)).to.deep.equal([]);
    }
    expect((await agent.get('/screening?dir=sideways')).status).to.equal(400);
    expect((await agent.get('/screening?q=a&q=b')).status).to.equal(400);
    expect(await Proposal.count()).to.equal(3);
  });

  it('escapes titles (no stored XSS in the list or the detail page)', async () => {
    const { proposal } = await makeSubmittedProposal({ call, pi: w.pi, title: '<script>alert(1)</script>', partners: [{ institution: w.sh }, { institution: w.js }] });
    const list = await agent.get('/screening');
    expect(list.text).to.not.contain('<script>alert(1)</script>');
    expect(list.text).to.contain('&lt;script&gt;alert(1)&lt;/script&gt;');
    const detail = await agent.get(`/screening/${proposal.id}`);
    expect(detail.text).to.not.contain('<script>alert(1)</script>');
  });
});

describe('screening: eligibility report and the SQL filter', () => {
  beforeEach(resetDb);

  it('shows each failed rule with what is required and what the proposal has, money in 元', async () => {
    const w = await world();
    const call = await makeCall({ rules: { maxTotalRequestFen: 100_000_000 } });
    const { proposal } = await makeSubmittedProposal({ call, pi: w.pi, partners: [{ institution: w.sh, requestedFen: 80_000_000 }, { institution: w.js, requestedFen: 40_000_000 }] });
    const agent = await signedInAgent(w.officerSH.email);
    const detail = await agent.get(`/screening/${proposal.id}`);
    expect(detail.status).to.equal(200);
    const failed = /<li class="rule-failed" data-rule="maxTotalRequest">([\s\S]*?)<\/li>/.exec(detail.text);
    expect(failed, 'the failed rule is listed').to.not.equal(null);
    expect(failed![1]).to.contain('申请资助总额上限 1,000,000.00 元，实际申请 1,200,000.00 元');
    expect(detail.text).to.match(/<li class="rule-ok" data-rule="minProvinces">[\s\S]*?实际覆盖 2 个/);
    const list = await agent.get('/screening');
    expect(list.text).to.contain('申请资助总额上限');
  });

  it('the pass / fail filter agrees with checkEligibility for one proposal failing each rule', async () => {
    const w = await world();
    const call = await makeCall({
      rules: { maxPartners: 3, maxTotalRequestFen: 200_000_000, maxPerPartnerFen: 120_000_000, minDurationMonths: 12, maxDurationMonths: 36, leadInstitutionTypes: ['university', 'institute'], minEnterpriseSelfFundingPct: 100, maxActivePerPi: 1 },
    });
    const P = (partners: Parameters<typeof makeSubmittedProposal>[0]['partners'], o: { pi?: { id: number }; durationMonths?: number; title?: string } = {}) =>
      makeSubmittedProposal({ call, pi: o.pi ?? { id: 0 }, partners, durationMonths: o.durationMonths, title: o.title }).then((x) => x.proposal.id);
    const fresh = async () => makeUser();
    const expected = new Map<number, string[]>();
    expected.set(await P([{ institution: w.sh }, { institution: w.js }], { pi: await fresh() }), []);
    expected.set(await P([{ institution: w.sh }, { institution: w.shEnterprise, selfFundedFen: 50_000_000 }], { pi: await fresh() }), ['minProvinces']);
    expected.set(await P([{ institution: w.sh }], { pi: await fresh() }), ['minProvinces', 'minPartners']);
    expected.set(await P([{ institution: w.sh, requestedFen: 10_000_000 }, { institution: w.js, requestedFen: 10_000_000 }, { institution: w.zj, requestedFen: 10_000_000 }, { institution: w.ah, requestedFen: 10_000_000 }], { pi: await fresh() }), ['maxPartners']);
    expected.set(await P([{ institution: w.sh, requestedFen: 110_000_000 }, { institution: w.js, requestedFen: 100_000_000 }], { pi: await fresh() }), ['maxTotalRequest']);
    expected.set(await P([{ institution: w.sh, requestedFen: 130_000_000 }, { institution: w.js, requestedFen: 10_000_000 }], { pi: await fresh() }), ['maxPerPartner']);
    expected.set(await P([{ institution: w.sh }, { institution: w.js }], { pi: await fresh(), durationMonths: 48 }), ['duration']);
    expected.set(await P([{ institution: w.shEnterprise, selfFundedFen: 60_000_000 }, { institution: w.js }], { pi: await fresh() }), ['leadType']);
    expected.set(await P([{ institution: w.js }, { institution: w.shEnterprise, selfFundedFen: 49_999_999 }], { pi: await fresh() }), ['enterpriseSelfFunding']);
    const twice = await fresh();
    const t1 = await P([{ institution: w.sh }, { institution: w.ah }], { pi: twice });
    const t2 = await P([{ institution: w.ah }, { institution: w.sh }], { pi: twice });
    expected.set(t1, ['piLimit']);
    expected.set(t2, ['piLimit']);

    const { sequelize } = await platform();
    const calls = await callScopes(sequelize);
    const mine = ['SH'];
    const rows = await screeningRows(sequelize, mine, calls, DEFAULT_FILTERS, { limit: 100, offset: 0 });
    const byId = new Map(rows.map((r) => [r.id, r.failed]));
    for (const [id, rules] of expected) expect(byId.get(id), `proposal ${id}`).to.deep.equal(rules);

    const agent = await signedInAgent(w.officerSH.email);
    const pass = ids((await agent.get(`/screening?eligibility=pass&call=${call.id}`)).text);
    const fail = ids((await agent.get(`/screening?eligibility=fail&call=${call.id}`)).text).sort((a, b) => a - b);
    expect(pass).to.deep.equal([...expected].filter(([, r]) => !r.length).map(([id]) => id));
    expect(fail).to.deep.equal([...expected].filter(([, r]) => r.length).map(([id]) => id).sort((a, b) => a - b));
    expect((await agent.get('/screening?eligibility=fail')).text).to.contain(`共 ${fail.length} 份申报书`);
    expect((await agent.get('/screening?eligibility=fail&sort=total&dir=asc')).status).to.equal(200);
  });
});

describe('screening decisions', () => {
  beforeEach(resetDb);

  it('records ineligible with a reason, notifies the PI and audits; a change needs a reason; closed once the call goes to review', async () => {
    const w = await world();
    const call = await makeCall();
    const { proposal } = await makeSubmittedProposal({ call, pi: w.pi, title: '待审项目', partners: [{ institution: w.sh }, { institution: w.js }] });
    const agent = await signedInAgent(w.officerSH.email);
    const from = `/screening/${proposal.id}`;

    const noReason = await postForm(agent, `${from}/decision`, { decision: 'ineligible', reason: '' }, from);
    expect(noReason.status).to.equal(400);
    expect(noReason.text).to.match(/id="f-reason-error"[^>]*>判为不通过时须填写原因/);
    expect((await Proposal.findByPk(proposal.id))!.status).to.equal('submitted');

    const bad = await postForm(agent, `${from}/decision`, { decision: 'approved', reason: 'x' }, from);
    expect(bad.status).to.equal(400);

    const res = await postForm(agent, `${from}/decision`, { decision: 'ineligible', reason: '缺少<b>盖章页</b>' }, from);
    expect(res.status).to.equal(303);
    const p = (await Proposal.findByPk(proposal.id))!;
    expect(p.status).to.equal('ineligible');
    expect(p.screenedBy).to.equal(w.officerSH.id);
    expect(p.screeningReason).to.equal('缺少<b>盖章页</b>');
    const mail = await OutboxMessage.findOne({ where: { template: 'proposal-screened' } });
    expect(mail!.toAddress).to.equal(w.pi.email);
    expect(mail!.subject).to.contain('待审项目');
    expect(mail!.textBody).to.contain('未通过形式审查').and.contain('缺少<b>盖章页</b>');
    expect(mail!.htmlBody).to.contain('缺少&lt;b&gt;盖章页&lt;/b&gt;');
    const event = await AuditEvent.findOne({ where: { action: 'proposal.screen', entityId: String(proposal.id) } });
    expect(event!.actorId).to.equal(w.officerSH.id);
    expect(JSON.parse(event!.beforeJson!).status).to.equal('submitted');
    expect(JSON.parse(event!.afterJson!).status).to.equal('ineligible');

    const same = await postForm(agent, `${from}/decision`, { decision: 'ineligible', reason: '重复' }, from);
    expect(same.status).to.equal(409);
    const change = await postForm(agent, `${from}/decision`, { decision: 'eligible', reason: '' }, from);
    expect(change.status).to.equal(400);
    expect(change.text).to.contain('修改已有结论时须填写原因');
    const changed = await postForm(agent, `${from}/decision`, { decision: 'eligible', reason: '已补交盖章页' }, from);
    expect(changed.status).to.equal(303);
    expect((await Proposal.findByPk(proposal.id))!.status).to.equal('eligible');
    expect(await AuditEvent.count({ where: { action: 'proposal.screen_change', entityId: String(proposal.id) } })).to.equal(1);
    expect(await OutboxMessage.count({ where: { template: 'proposal-screened', toAddress: w.pi.email } })).to.equal(2);

    await Call.update({ status: 'in_review' }, { where: { id: call.id } });
    const late = await postForm(agent, `${from}/decision`, { decision: 'ineligible', reason: '太晚了' }, from);
    expect(late.status).to.equal(409);
    expect(late.text).to.contain('该指南已进入评审阶段');
    expect((await Proposal.findByPk(proposal.id))!.status).to.equal('eligible');
  });

  it('declaring eligible a proposal that fails an automatic check needs a reason; a passing one does not', async () => {
    const w = await world();
    const call = await makeCall({ rules: { maxDurationMonths: 24 } });
    const { proposal: failing } = await makeSubmittedProposal({ call, pi: w.pi, durationMonths: 36, partners: [{ institution: w.sh }, { institution: w.js }] });
    const { proposal: passing } = await makeSubmittedProposal({ call, pi: await makeUser(), partners: [{ institution: w.sh }, { institution: w.js }] });
    const agent = await signedInAgent(w.officerSH.email);
    const override = await postForm(agent, `/screening/${failing.id}/decision`, { decision: 'eligible' }, `/screening/${failing.id}`);
    expect(override.status).to.equal(400);
    expect(override.text).to.contain('自动检查有规则未通过');
    const ok = await postForm(agent, `/screening/${passing.id}/decision`, { decision: 'eligible' }, `/screening/${passing.id}`);
    expect(ok.status).to.equal(303);
    expect((await Proposal.findByPk(passing.id))!.status).to.equal('eligible');
  });
});
