import { expect } from 'chai';
import { Call, CallCriterion, CallTopic, Programme } from '../../server/calls/models.js';
import { readAttachmentKinds, readBudgetCategories, readRules } from '../../server/calls/schema.js';
import { AuditEvent } from '../../server/platform/audit.js';
import { resetDb } from '../support/platform.js';
import { makeUser } from '../support/factories.js';
import { csrfFrom, signedInAgent } from '../support/agent.js';
import { DAY, makeCall, officer, postRaw, settingsFields } from './helpers.js';

describe('call editor', () => {
  beforeEach(resetDb);

  it('keeps the lead-province conflict rule ticked on a new call and shows it ticked again in the editor', async () => {
    const agent = await signedInAgent((await officer('ZJ')).email);
    const res = await postRaw(agent, '/calls', settingsFields({ deadlineAt: '2099-12-01T17:00', noExpertFromLeadProvince: '1' }));
    expect(res.status).to.equal(303);
    const call = (await Call.findOne())!;
    expect(call.noExpertFromLeadProvince).to.equal(true);
    const page = await agent.get(`/calls/${call.id}/edit`);
    expect(page.text).to.match(/id="f-noExpertFromLeadProvince"[^>]*checked/);
  });

  it('lets an officer create a draft: new programme, Beijing-time dates, rules in 元 and percent, lead types', async () => {
    const agent = await signedInAgent((await officer('JS')).email);
    const res = await postRaw(
      agent,
      '/calls',
      settingsFields({ deadlineAt: '2026-12-01T17:00', opensAt: '2026-10-01T09:00', maxTotalRequestYuan: '5,000,000', maxPerPartnerYuan: '2000000.5', fundingMode: 'mixed', balancingPotYuan: '1000000' }, ['enterprise', 'university']),
    );
    expect(res.status).to.equal(303);
    const call = (await Call.findOne())!;
    expect(res.headers.location).to.equal(`/calls/${call.id}/edit`);
    expect(call.status).to.equal('draft');
    expect(call.deadlineAt!.toISOString()).to.equal('2026-12-01T09:00:00.000Z');
    expect(call.opensAt!.toISOString()).to.equal('2026-10-01T01:00:00.000Z');
    expect(call.balancingPotFen).to.equal(100_000_000);
    const rules = readRules(call.rulesJson);
    expect(rules).to.include({ maxTotalRequestFen: 500_000_000, maxPerPartnerFen: 200_000_050, minEnterpriseSelfFundingPct: 100, maxActivePerPi: 1, maxDurationMonths: 36 });
    expect(rules.leadInstitutionTypes).to.deep.equal(['enterprise', 'university']);
    expect(readBudgetCategories(call.budgetCategoriesJson).map((c) => c.code)).to.include('equipment');
    expect(readAttachmentKinds(call.attachmentKindsJson).find((k) => k.code === 'application')!.required).to.equal(true);
    expect((await Programme.findByPk(call.programmeId))!.nameZh).to.equal('长三角科技创新共同体联合攻关计划');
    // The editor shows the saved wall times back, and the checked lead types.
    const edit = await agent.get(`/calls/${call.id}/edit`);
    expect(edit.text).to.contain('value="2026-12-01T17:00"').and.contain('value="2026-10-01T09:00"');
    expect(edit.text).to.match(/value="enterprise" checked/);
    expect(edit.text).not.to.match(/value="hospital" checked/);
    const ev = await AuditEvent.findOne({ where: { action: 'call.create' } });
    expect(JSON.parse(ev!.afterJson!)).to.include({ titleZh: '人工智能联合攻关指南', status: 'draft' });
  });

  it('shows each error next to its field with status 400, keeping what was typed (checkboxes included)', async () => {
    const agent = await signedInAgent((await officer('SH')).email);
    const res = await postRaw(
      agent,
      '/calls',
      settingsFields({ titleZh: '', deadlineAt: '2026-02-30T10:00', reviewersPerProposal: '7', maxTotalRequestYuan: '12.345', titleEn: 'Kept <b>title</b>' }, ['institute']),
    );
    expect(res.status).to.equal(400);
    expect(res.text).to.match(/id="f-titleZh-error"[^>]*>请填写中文名称/);
    expect(res.text).to.match(/id="f-deadlineAt-error"[^>]*>请输入有效的日期和时间/);
    expect(res.text).to.match(/id="f-reviewersPerProposal-error"[^>]*>评审专家人数须为 3 至 5 人/);
    expect(res.text).to.match(/id="f-maxTotalRequestYuan-error"[^>]*>请输入有效金额/);
    expect(res.text).to.contain('value="Kept &lt;b&gt;title&lt;/b&gt;"').and.contain('value="2026-02-30T10:00"');
    expect(res.text).to.match(/value="institute" checked/);
    expect(await Call.count()).to.equal(0);
  });

  it('checks rules across fields: min ≤ max, mixed mode needs a pot, endorsement needs its deadline, dates in order', async () => {
    const agent = await signedInAgent((await officer('SH')).email);
    const res = await postRaw(
      agent,
      '/calls',
      settingsFields({ minPartners: '5', maxPartners: '3', fundingMode: 'mixed', balancingPotYuan: '', endorsementRequired: '1', opensAt: '2099-12-02T00:00' }),
    );
    expect(res.status).to.equal(400);
    expect(res.text).to.contain('最多单位数不能小于最少单位数').and.contain('混合池方式须填写调剂资金金额').and.contain('请填写依托单位审核截止时间');
    expect(res.text).to.contain('截止时间须晚于开始接收申报时间');
    expect(await Call.count()).to.equal(0);
  });

  it('ignores status, creator and publication date sent with the settings (mass assignment)', async () => {
    const call = await makeCall();
    const agent = await signedInAgent((await officer('SH')).email);
    const res = await postRaw(agent, `/calls/${call.id}/settings`, [...settingsFields({ programmeId: String(call.programmeId), programmeName: '' }), ['status', 'published'], ['createdBy', '1'], ['publishedAt', '2020-01-01T00:00'], ['id', '999']]);
    expect(res.status).to.equal(303);
    await call.reload();
    expect(call.status).to.equal('draft');
    expect(call.publishedAt).to.equal(null);
    expect(call.createdBy).to.equal(null);
    expect(call.titleZh).to.equal('人工智能联合攻关指南');
    const ev = (await AuditEvent.findOne({ where: { action: 'call.update' } }))!;
    expect(JSON.parse(ev.beforeJson!).titleZh).to.match(/^集成电路/);
    expect(JSON.parse(ev.afterJson!).titleZh).to.equal('人工智能联合攻关指南');
  });

  it('adds, edits and removes topics; a duplicate code is refused next to the field', async () => {
    const call = await makeCall({ topics: 0 });
    const agent = await signedInAgent((await officer('ZJ')).email);
    const token = await csrfFrom(agent, '/calls');
    const add = (code: string, title: string) => agent.post(`/calls/${call.id}/topics`).type('form').send({ _csrf: token, topicCode: code, topicTitleZh: title, topicTitleEn: '', topicDescription: '第一行\n第二行' });
    expect((await add('A1', '类脑芯片')).status).to.equal(303);
    const dup = await add('A1', '另一个');
    expect(dup.status).to.equal(400);
    expect(dup.text).to.match(/id="f-topicCode-error"[^>]*>该编号已被使用/);
    expect(dup.text).to.contain('value="另一个"');
    const bad = await add('a b', '');
    expect(bad.status).to.equal(400);
    const topic = (await CallTopic.findOne({ where: { callId: call.id } }))!;
    const edited = await agent.post(`/calls/${call.id}/topics/${topic.id}`).type('form').send({ _csrf: token, topicCode: 'A2', topicTitleZh: '存算一体芯片', topicTitleEn: 'Compute-in-memory' });
    expect(edited.status).to.equal(303);
    expect((await topic.reload()).titleZh).to.equal('存算一体芯片');
    // A topic of another call cannot be reached through this call's URL.
    const other = await makeCall();
    const otherTopic = (await CallTopic.findOne({ where: { callId: other.id } }))!;
    expect((await agent.post(`/calls/${call.id}/topics/${otherTopic.id}/remove`).type('form').send({ _csrf: token })).status).to.equal(404);
    expect((await agent.post(`/calls/${call.id}/topics/${topic.id}/remove`).type('form').send({ _csrf: token })).status).to.equal(303);
    expect(await CallTopic.count({ where: { callId: call.id } })).to.equal(0);
    expect(await CallTopic.count({ where: { callId: other.id } })).to.equal(1);
  });

  it('adds criteria up to 100% and refuses one that would pass it; removes criteria', async () => {
    const call = await makeCall({ weights: [] });
    const agent = await signedInAgent((await officer('SH')).email);
    const token = await csrfFrom(agent, '/calls');
    const add = (name: string, weight: string) => agent.post(`/calls/${call.id}/criteria`).type('form').send({ _csrf: token, criterionNameZh: name, criterionNameEn: '', criterionWeight: weight, criterionScale: '10' });
    expect((await add('创新性', '60')).status).to.equal(303);
    const over = await add('可行性', '50');
    expect(over.status).to.equal(400);
    expect(over.text).to.match(/id="f-criterionWeight-error"[^>]*>加上此项后权重合计将超过 100%/);
    expect((await add('可行性', '40')).status).to.equal(303);
    expect((await CallCriterion.findAll({ where: { callId: call.id } })).map((c) => c.weight).sort()).to.deep.equal([40, 60]);
    const c = (await CallCriterion.findOne({ where: { callId: call.id, weight: 40 } }))!;
    expect((await agent.post(`/calls/${call.id}/criteria/${c.id}/remove`).type('form').send({ _csrf: token })).status).to.equal(303);
    expect(await CallCriterion.count({ where: { callId: call.id } })).to.equal(1);
  });

  it('edits the budget categories and attachment kinds lists', async () => {
    const call = await makeCall();
    const agent = await signedInAgent((await makeUser({ roles: [{ role: 'admin' }] })).email);
    const token = await csrfFrom(agent, '/calls');
    const cat = await agent.post(`/calls/${call.id}/categories`).type('form').send({ _csrf: token, categoryCode: 'fuel', categoryNameZh: '燃料动力费', categoryNameEn: 'Fuel and power' });
    expect(cat.status).to.equal(303);
    expect((await agent.post(`/calls/${call.id}/categories`).type('form').send({ _csrf: token, categoryCode: 'fuel', categoryNameZh: 'x', categoryNameEn: 'x' })).status).to.equal(400);
    expect((await agent.post(`/calls/${call.id}/categories/labour/remove`).type('form').send({ _csrf: token })).status).to.equal(303);
    await call.reload();
    const codes = readBudgetCategories(call.budgetCategoriesJson).map((c) => c.code);
    expect(codes).to.include('fuel').and.not.include('labour');
    const kind = await postRaw(agent, `/calls/${call.id}/attachment-kinds`, [['kindCode', 'ethics'], ['kindNameZh', '伦理审查意见'], ['kindNameEn', 'Ethics approval'], ['kindRequired', '1'], ['kindTypes', 'pdf'], ['kindTypes', 'docx'], ['kindMaxMb', '5']], token);
    expect(kind.status).to.equal(303);
    const noTypes = await postRaw(agent, `/calls/${call.id}/attachment-kinds`, [['kindCode', 'x1'], ['kindNameZh', 'x'], ['kindNameEn', 'x'], ['kindMaxMb', '5']], token);
    expect(noTypes.status).to.equal(400);
    expect(noTypes.text).to.contain('请至少选择一种文件类型');
    await call.reload();
    expect(readAttachmentKinds(call.attachmentKindsJson).find((k) => k.code === 'ethics')).to.deep.equal({ code: 'ethics', nameZh: '伦理审查意见', nameEn: 'Ethics approval', required: true, types: ['pdf', 'docx'], maxBytes: 5 * 1024 * 1024 });
    const audits = await AuditEvent.count({ where: { action: 'call.attachment_kinds.update' } });
    expect(audits).to.equal(1);
  });

  it('after publishing only pledges and the deadline extension remain: settings and lists are refused (403)', async () => {
    const call = await makeCall({ status: 'published', deadlineAt: new Date('2099-01-01T09:00:00Z') });
    const agent = await signedInAgent((await officer('SH')).email);
    const token = await csrfFrom(agent, '/calls');
    const page = await agent.get(`/calls/${call.id}/edit`);
    expect(page.text).to.contain('仅可调整各省市经费承诺和延长申报截止时间');
    expect(page.text).not.to.contain(`action="/calls/${call.id}/settings"`).and.not.to.contain(`action="/calls/${call.id}/topics"`);
    const settings = await postRaw(agent, `/calls/${call.id}/settings`, settingsFields({ programmeId: String(call.programmeId), programmeName: '' }), token);
    expect(settings.status).to.equal(403);
    expect(settings.text).to.contain('指南已发布，申报规则、正文和时间不能再修改');
    const topic = await agent.post(`/calls/${call.id}/topics`).type('form').send({ _csrf: token, topicCode: 'Z9', topicTitleZh: '新方向' });
    expect(topic.status).to.equal(403);
    await call.reload();
    expect(call.titleZh).to.match(/^集成电路/);
    expect(await CallTopic.count({ where: { callId: call.id } })).to.equal(1);
  });

  it('extends the deadline of a published call (later only), and audits it', async () => {
    const call = await makeCall({ status: 'published', deadlineAt: new Date('2099-01-01T09:00:00Z') });
    const agent = await signedInAgent((await officer('SH')).email);
    const token = await csrfFrom(agent, '/calls');
    const earlier = await agent.post(`/calls/${call.id}/deadline`).type('form').send({ _csrf: token, newDeadlineAt: '2098-12-31T17:00' });
    expect(earlier.status).to.equal(400);
    expect(earlier.text).to.contain('新的时间须晚于当前时间设置').and.contain('value="2098-12-31T17:00"');
    const ok = await agent.post(`/calls/${call.id}/deadline`).type('form').send({ _csrf: token, newDeadlineAt: '2099-01-15T17:00' });
    expect(ok.status).to.equal(303);
    expect((await call.reload()).deadlineAt!.toISOString()).to.equal('2099-01-15T09:00:00.000Z');
    const ev = (await AuditEvent.findOne({ where: { action: 'call.extend_deadline' } }))!;
    expect(JSON.parse(ev.beforeJson!).deadlineAt).to.equal('2099-01-01T09:00:00.000Z');
    // A draft's deadline is edited in its settings, not extended.
    const draft = await makeCall({ deadlineAt: new Date(Date.now() + DAY) });
    expect((await agent.post(`/calls/${draft.id}/deadline`).type('form').send({ _csrf: token, newDeadlineAt: '2099-01-15T17:00' })).status).to.equal(403);
  });

  it('keeps applicants and institution admins out of the editor', async () => {
    const call = await makeCall();
    const pi = await signedInAgent((await makeUser()).email);
    expect((await pi.get('/calls/new')).status).to.equal(403);
    expect((await pi.get(`/calls/${call.id}/edit`)).status).to.equal(403);
    const res = await postRaw(pi, '/calls', settingsFields());
    expect(res.status).to.equal(403);
    expect(res.text).to.contain('只有项目主管和平台管理员可以管理指南');
    expect(await Call.count()).to.equal(1);
  });
});
