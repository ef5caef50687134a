import { expect } from 'chai';
import { resetDb } from '../support/platform.js';
import { makeInstitution, makeUser } from '../support/factories.js';
import { csrfFrom, newAgent, postForm, signedInAgent, type Agent } from '../support/agent.js';
import { AuditEvent } from '../../server/platform/audit.js';
import { OutboxMessage } from '../../server/platform/mail/outbox.js';
import { Institution, InstitutionRequest, User } from '../../server/people/models.js';
import { syntheticCreditCode } from '../../server/people/rules.js';

const VALID = '91330100799655058B';
const BAD_CHECK = '91330100799655058C';

const form = (o: Record<string, string> = {}) => ({ nameZh: '长三角测试研究院', nameEn: 'YRD Test Institute', provinceCode: 'SH', type: 'institute', creditCode: VALID, ...o });
const decode = (html: string) => html.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
const actions = async (action: string) => AuditEvent.findAll({ where: { action }, order: [['id', 'ASC']] });

async function admin(): Promise<Agent> {
  await makeUser({ email: 'admin@example.org', roles: [{ role: 'admin' }] });
  return signedInAgent('admin@example.org');
}
async function officer(province: string, email = `officer.${province.toLowerCase()}@example.org`): Promise<Agent> {
  await makeUser({ email, roles: [{ role: 'officer', provinceCode: province }] });
  return signedInAgent(email);
}

describe('institution registry', () => {
  beforeEach(resetDb);

  it('sends a visitor to sign in, and shows any signed-in user the registry', async () => {
    const visitor = await (await newAgent()).get('/institutions');
    expect(visitor.status).to.equal(303);
    await makeInstitution({ nameZh: '复旦大学', provinceCode: 'SH' });
    await makeUser({ email: 'pi@example.org' });
    const res = await (await signedInAgent('pi@example.org')).get('/institutions');
    expect(res.status).to.equal(200);
    expect(res.text).to.contain('复旦大学').and.contain('上海市').and.contain('高等院校');
    expect(res.text).not.to.contain('href="/institutions/new"');
    expect(res.text).to.contain('href="/institutions/request"');
  });

  it('searches by name and by credit code, filters by province and type', async () => {
    await makeInstitution({ nameZh: '南京大学', provinceCode: 'JS', type: 'university' });
    await makeInstitution({ nameZh: '浙江大学', provinceCode: 'ZJ', type: 'university', creditCode: VALID });
    await makeInstitution({ nameZh: '合肥物质科学研究院', provinceCode: 'AH', type: 'institute' });
    await makeUser({ email: 'pi@example.org' });
    const agent = await signedInAgent('pi@example.org');
    const names = async (qs: string) => [...(await agent.get(`/institutions?${qs}`)).text.matchAll(/<tr data-institution-id="\d+">\s*<td>([^<]+)/g)].map((m) => m[1]);
    expect(await names('q=%E5%8D%97%E4%BA%AC')).to.deep.equal(['南京大学']); // 南京
    expect(await names(`q=${VALID.slice(3, 12).toLowerCase()}`)).to.deep.equal(['浙江大学']);
    expect(await names('province=AH')).to.deep.equal(['合肥物质科学研究院']);
    expect(await names('type=university')).to.have.members(['南京大学', '浙江大学']);
    expect(await names('type=university&province=JS')).to.deep.equal(['南京大学']);
    // LIKE wildcards typed by a user are taken literally.
    expect(await names('q=%25')).to.deep.equal([]);
    expect(await names('q=_')).to.deep.equal([]);
    // Garbage in the filters is a 400, not a crash.
    expect((await agent.get('/institutions?type=castle')).status).to.equal(400);
  });

  it('pages through the registry 50 at a time, keeping the filters', async () => {
    for (let i = 0; i < 55; i++) await makeInstitution({ nameZh: `江苏测试单位${String(i).padStart(2, '0')}`, provinceCode: 'JS' });
    await makeInstitution({ nameZh: '上海单位', provinceCode: 'SH' });
    await makeUser({ email: 'pi@example.org' });
    const agent = await signedInAgent('pi@example.org');
    const first = await agent.get('/institutions?province=JS');
    expect(first.text.match(/data-institution-id=/g)).to.have.length(50);
    expect(decode(first.text)).to.contain('href="/institutions?province=JS&page=2" rel="next"');
    const second = await agent.get('/institutions?province=JS&page=2');
    expect(second.text.match(/data-institution-id=/g)).to.have.length(5);
    expect(second.text).to.contain('江苏测试单位54').and.not.contain('上海单位');
  });

  it('lets an admin register an institution, with an audit event', async () => {
    const agent = await admin();
    expect((await agent.get('/institutions/new')).status).to.equal(200);
    const res = await postForm(agent, '/institutions', form({ creditCode: ` ${VALID.toLowerCase()} ` }));
    expect(res.status).to.equal(303);
    const inst = await Institution.findOne({ where: { creditCode: VALID } });
    expect(inst?.nameZh).to.equal('长三角测试研究院');
    const [event] = await actions('institution.create');
    expect(JSON.parse(event!.afterJson!)).to.include({ creditCode: VALID, provinceCode: 'SH', type: 'institute' });
    const list = await agent.get(res.headers.location!);
    expect(list.text).to.contain('单位已加入单位库').and.contain('长三角测试研究院');
  });

  it('shows a wrong check digit at the field and keeps everything typed', async () => {
    const agent = await admin();
    const res = await postForm(agent, '/institutions', form({ creditCode: BAD_CHECK, provinceCode: 'ZJ', type: 'hospital' }));
    expect(res.status).to.equal(400);
    expect(res.text).to.match(/id="f-creditCode-error"[^>]*>统一社会信用代码校验位不正确/);
    expect(res.text).to.match(/id="f-creditCode"[^>]*value="91330100799655058C"/);
    expect(res.text).to.contain('value="长三角测试研究院"').and.contain('value="YRD Test Institute"');
    expect(res.text).to.contain('<option value="ZJ" selected>').and.contain('<option value="hospital" selected>');
    expect(await Institution.count()).to.equal(0);
    expect(await actions('institution.create')).to.have.length(0);
  });

  it('refuses a credit code already registered, at the field — also when two arrive at once', async () => {
    const agent = await admin();
    await makeInstitution({ nameZh: '已有单位', creditCode: VALID });
    const res = await postForm(agent, '/institutions', form());
    expect(res.status).to.equal(400);
    expect(res.text).to.match(/id="f-creditCode-error"[^>]*>该统一社会信用代码已登记/);
    expect(res.text).to.contain('value="长三角测试研究院"');

    const code = syntheticCreditCode(4242);
    const token = await csrfFrom(agent, '/');
    const both = await Promise.all([0, 1].map((i) => agent.post('/institutions').type('form').send({ _csrf: token, ...form({ nameZh: `并发单位${i}`, creditCode: code }) })));
    expect(both.map((r) => r.status).sort()).to.deep.equal([303, 400]);
    expect(await Institution.count({ where: { creditCode: code } })).to.equal(1);
  });

  it('lets an officer register and edit institutions of their own province only', async () => {
    const agent = await officer('JS');
    const own = await postForm(agent, '/institutions', form({ provinceCode: 'JS' }));
    expect(own.status).to.equal(303);
    const other = await postForm(agent, '/institutions', form({ provinceCode: 'ZJ', creditCode: syntheticCreditCode(77), nameZh: '浙江某单位' }));
    expect(other.status).to.equal(403);
    expect(other.text).to.match(/id="f-provinceCode-error"[^>]*>项目主管只能管理本省市的单位/);
    expect(other.text).to.contain('value="浙江某单位"');
    expect(await Institution.count({ where: { provinceCode: 'ZJ' } })).to.equal(0);

    const zj = await makeInstitution({ nameZh: '浙江单位', provinceCode: 'ZJ' });
    const page = await agent.get(`/institutions/${zj.id}/edit`);
    expect(page.status).to.equal(403);
    expect(page.text).to.contain('项目主管只能管理本省市的单位');
    const post = await postForm(agent, `/institutions/${zj.id}`, form({ provinceCode: 'ZJ', nameZh: '改名', creditCode: zj.creditCode }));
    expect(post.status).to.equal(403);
    expect((await zj.reload()).nameZh).to.equal('浙江单位');
    // Moving an institution of their province into another is refused too.
    const js = await Institution.findOne({ where: { provinceCode: 'JS' } });
    const move = await postForm(agent, `/institutions/${js!.id}`, form({ provinceCode: 'AH', creditCode: js!.creditCode }));
    expect(move.status).to.equal(403);
    expect((await js!.reload()).provinceCode).to.equal('JS');
  });

  it('edits an institution with before/after in the audit trail', async () => {
    const agent = await officer('SH');
    const inst = await makeInstitution({ nameZh: '旧名称', provinceCode: 'SH', type: 'other' });
    const page = await agent.get(`/institutions/${inst.id}/edit`);
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('value="旧名称"').and.contain(`value="${inst.creditCode}"`);
    const res = await postForm(agent, `/institutions/${inst.id}`, form({ nameZh: '新名称', type: 'enterprise', creditCode: inst.creditCode }));
    expect(res.status).to.equal(303);
    await inst.reload();
    expect([inst.nameZh, inst.type]).to.deep.equal(['新名称', 'enterprise']);
    const [event] = await actions('institution.update');
    expect(JSON.parse(event!.beforeJson!)).to.include({ nameZh: '旧名称', type: 'other' });
    expect(JSON.parse(event!.afterJson!)).to.include({ nameZh: '新名称', type: 'enterprise' });
    // Taking another institution's code is refused.
    const other = await makeInstitution({ provinceCode: 'SH' });
    const clash = await postForm(agent, `/institutions/${inst.id}`, form({ creditCode: other.creditCode }));
    expect(clash.status).to.equal(400);
    expect(clash.text).to.contain('该统一社会信用代码已登记');
  });

  it('refuses applicants the registry forms (403 with the reason) and unknown ids (404)', async () => {
    await makeUser({ email: 'pi@example.org' });
    const agent = await signedInAgent('pi@example.org');
    const inst = await makeInstitution();
    const res = await agent.get('/institutions/new');
    expect(res.status).to.equal(403);
    expect(res.text).to.contain('此页面仅限平台管理员或项目主管访问');
    expect((await postForm(agent, '/institutions', form())).status).to.equal(403);
    expect((await agent.get(`/institutions/${inst.id}/edit`)).status).to.equal(403);
    expect(await Institution.count()).to.equal(1);
    const boss = await admin();
    expect((await boss.get('/institutions/999999/edit')).status).to.equal(404);
    expect((await boss.get('/institutions/abc/edit')).status).to.equal(404);
  });
});

describe('requests for a missing institution', () => {
  beforeEach(resetDb);

  async function requestAs(email: string, o: Record<string, string> = {}) {
    const user = await makeUser({ email, lang: 'zh-CN' });
    const agent = await signedInAgent(email);
    const res = await postForm(agent, '/institutions/request', form(o), '/institutions/request');
    return { user, agent, res };
  }

  it('request → approve: the institution joins the registry, the requester gets it and a mail, all audited', async () => {
    const { user, agent, res } = await requestAs('pi@example.org', { provinceCode: 'AH' });
    expect(res.status).to.equal(303);
    const mine = await agent.get('/institutions/request');
    expect(mine.text).to.contain('长三角测试研究院').and.contain('待审核');
    const request = (await InstitutionRequest.findOne())!;

    const ah = await officer('AH');
    const queue = await ah.get('/admin/institution-requests');
    expect(queue.status).to.equal(200);
    expect(queue.text).to.contain(`data-request-id="${request.id}"`).and.contain('pi@example.org');
    const decided = await postForm(ah, `/admin/institution-requests/${request.id}/decide`, { decision: 'approve' }, '/admin/institution-requests');
    expect(decided.status).to.equal(303);

    const inst = await Institution.findOne({ where: { creditCode: VALID } });
    expect(inst).to.not.equal(null);
    await request.reload();
    expect([request.status, request.institutionId]).to.deep.equal(['approved', inst!.id]);
    expect((await user.reload()).institutionId).to.equal(inst!.id);
    const mails = await OutboxMessage.findAll({ where: { template: 'institution-request-decided' } });
    expect(mails).to.have.length(1);
    expect(mails[0]!.toAddress).to.equal('pi@example.org');
    expect(mails[0]!.subject).to.contain('长三角测试研究院');
    expect(mails[0]!.textBody).to.contain('已通过审核').and.contain('已设为您的所在单位').and.contain('/institutions/request');
    for (const a of ['institution_request.create', 'institution.create', 'user.set_institution', 'institution_request.approve']) expect(await actions(a), a).to.have.length(1);
    const [approve] = await actions('institution_request.approve');
    expect(JSON.parse(approve!.beforeJson!)).to.include({ status: 'pending' });
    expect(JSON.parse(approve!.afterJson!)).to.include({ status: 'approved', institutionId: inst!.id });

    // Deciding twice changes nothing and sends nothing more.
    const again = await postForm(ah, `/admin/institution-requests/${request.id}/decide`, { decision: 'reject', reason: 'x' }, '/admin/institution-requests');
    expect(again.status).to.equal(303);
    expect((await request.reload()).status).to.equal('approved');
    expect(await OutboxMessage.count()).to.equal(1);
  });

  it('does not move a requester who already has an institution', async () => {
    const home = await makeInstitution();
    const user = await makeUser({ email: 'has@example.org', institutionId: home.id });
    const agent = await signedInAgent('has@example.org');
    await postForm(agent, '/institutions/request', form(), '/institutions/request');
    const boss = await admin();
    const request = (await InstitutionRequest.findOne())!;
    await postForm(boss, `/admin/institution-requests/${request.id}/decide`, { decision: 'approve' });
    expect((await user.reload()).institutionId).to.equal(home.id);
    expect(await actions('user.set_institution')).to.have.length(0);
    const mail = (await OutboxMessage.findOne())!;
    expect(mail.textBody).not.to.contain('已设为您的所在单位');
  });

  it('a rejection needs a reason, which the requester reads in the mail', async () => {
    await requestAs('pi@example.org');
    const request = (await InstitutionRequest.findOne())!;
    const sh = await officer('SH');
    const empty = await postForm(sh, `/admin/institution-requests/${request.id}/decide`, { decision: 'reject', reason: '  ' });
    expect(empty.status).to.equal(400);
    expect(empty.text).to.match(new RegExp(`id="f-reason-${request.id}-error"[^>]*>驳回时请填写理由`));
    expect((await request.reload()).status).to.equal('pending');
    const res = await postForm(sh, `/admin/institution-requests/${request.id}/decide`, { decision: 'reject', reason: '单位名称与营业执照不符' });
    expect(res.status).to.equal(303);
    await request.reload();
    expect([request.status, request.decisionReason, request.institutionId]).to.deep.equal(['rejected', '单位名称与营业执照不符', null]);
    expect(await Institution.count()).to.equal(0);
    const mail = (await OutboxMessage.findOne())!;
    expect(mail.textBody).to.contain('未获通过').and.contain('单位名称与营业执照不符');
    expect(await actions('institution_request.reject')).to.have.length(1);
  });

  it('officers see and decide only their province’s requests', async () => {
    await requestAs('pi@example.org', { provinceCode: 'ZJ' });
    const request = (await InstitutionRequest.findOne())!;
    const js = await officer('JS');
    const queue = await js.get('/admin/institution-requests');
    expect(queue.status).to.equal(200);
    expect(queue.text).not.to.contain(`data-request-id="${request.id}"`);
    const res = await postForm(js, `/admin/institution-requests/${request.id}/decide`, { decision: 'approve' });
    expect(res.status).to.equal(403);
    expect(res.text).to.contain('项目主管只能管理本省市的单位');
    expect((await request.reload()).status).to.equal('pending');
    expect(await OutboxMessage.count()).to.equal(0);
    // Applicants cannot open the queue at all.
    await makeUser({ email: 'other@example.org' });
    expect((await (await signedInAgent('other@example.org')).get('/admin/institution-requests')).status).to.equal(403);
  });

  it('validates a request like a registration: bad code at the field, known code pointed to the registry', async () => {
    const { agent, res } = await requestAs('pi@example.org', { creditCode: BAD_CHECK });
    expect(res.status).to.equal(400);
    expect(res.text).to.match(/id="f-creditCode-error"[^>]*>统一社会信用代码校验位不正确/);
    expect(res.text).to.contain('value="长三角测试研究院"');
    await makeInstitution({ creditCode: syntheticCreditCode(9) });
    const known = await postForm(agent, '/institutions/request', form({ creditCode: syntheticCreditCode(9) }), '/institutions/request');
    expect(known.status).to.equal(400);
    expect(known.text).to.contain('已在单位库中');
    expect(await InstitutionRequest.count()).to.equal(0);
  });

  it('cannot approve a request whose code was registered meanwhile', async () => {
    await requestAs('pi@example.org');
    const request = (await InstitutionRequest.findOne())!;
    await makeInstitution({ creditCode: VALID });
    const boss = await admin();
    const res = await postForm(boss, `/admin/institution-requests/${request.id}/decide`, { decision: 'approve' });
    expect(res.status).to.equal(303);
    const page = await boss.get('/admin/institution-requests');
    expect(page.text).to.contain('单位库中已有相同统一社会信用代码的单位');
    expect((await request.reload()).status).to.equal('pending');
    expect(await OutboxMessage.count()).to.equal(0);
    expect(await User.count()).to.equal(2);
  });
});
