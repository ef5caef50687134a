import { expect } from 'chai';
import { Op } from 'sequelize';
import { AuditEvent } from '../../server/platform/audit.js';
import { OutboxMessage } from '../../server/platform/mail/outbox.js';
import { Province, User, UserRole } from '../../server/people/models.js';
import { ExpertDiscipline, ExpertProfile } from '../../server/review/models.js';
import { IntegritySanction } from '../../server/integrity/models.js';
import { activeSanctionsFor } from '../../server/integrity/checks.js';
import { seedDemo } from '../../server/seed/demo.js';
import { platform, resetDb, testConfig } from '../support/platform.js';
import { makeInstitution, makeUser } from '../support/factories.js';
import { postForm, signedInAgent } from '../support/agent.js';

async function expert(o: { email: string; name: string; institutionId: number | null; disciplines: string[]; keywords: string; available?: boolean; verified?: boolean }) {
  const u = await makeUser({ email: o.email, name: o.name, institutionId: o.institutionId, roles: [{ role: 'expert' }], verified: o.verified });
  await ExpertProfile.create({ userId: u.id, title: '教授', keywords: o.keywords, bio: null, available: o.available ?? true, maxLoad: 5 });
  await ExpertDiscipline.bulkCreate(o.disciplines.map((code, i) => ({ userId: u.id, code, sortOrder: i })));
  return u;
}

describe('expert profile (the expert maintains their own)', () => {
  beforeEach(resetDb);

  it('creates the profile on first save, shows the province of the institution, and audits the change', async () => {
    const inst = await makeInstitution({ provinceCode: 'AH', nameZh: '合肥测试大学' });
    const u = await makeUser({ email: 'e@example.org', institutionId: inst.id, roles: [{ role: 'expert' }] });
    const agent = await signedInAgent(u.email);
    const page = await agent.get('/expert/profile');
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('合肥测试大学').and.contain('安徽省').and.contain('您还没有填写专家信息');
    const res = await postForm(agent, '/expert/profile', { title: '研究员', disciplines: 'g0101；G0202 G0101', keywords: '供应链, 博弈；数字经济', bio: '长期从事运营管理研究', available: '1', maxLoad: '7', provinceCode: 'SH' }, '/expert/profile');
    expect(res.status).to.equal(303);
    const p = (await ExpertProfile.findOne({ where: { userId: u.id } }))!;
    expect(p).to.deep.include({ title: '研究员', keywords: '供应链；博弈；数字经济', maxLoad: 7, bio: '长期从事运营管理研究' });
    expect(!!p.available).to.equal(true);
    expect((await ExpertDiscipline.findAll({ where: { userId: u.id }, order: [['sortOrder', 'ASC']], raw: true })).map((d) => d.code)).to.deep.equal(['G0101', 'G0202']);
    // Unchecking "available" is saved as not available.
    await postForm(agent, '/expert/profile', { title: '研究员', disciplines: 'G0101', keywords: '', bio: '', maxLoad: '7' }, '/expert/profile');
    expect(!!(await ExpertProfile.findOne({ where: { userId: u.id } }))!.available).to.equal(false);
    const events = await AuditEvent.findAll({ where: { action: 'expert.update_profile', entityId: String(u.id) }, order: [['id', 'ASC']] });
    expect(events).to.have.length(2);
    expect(events[0]!.beforeJson).to.equal(null);
    expect(JSON.parse(events[1]!.beforeJson!)).to.include({ available: true, maxLoad: 7 });
    expect(JSON.parse(events[1]!.afterJson!)).to.include({ available: false });
  });

  it('shows each error next to its field and keeps what was typed', async () => {
    const u = await makeUser({ email: 'e@example.org', roles: [{ role: 'expert' }] });
    const agent = await signedInAgent(u.email);
    const res = await postForm(agent, '/expert/profile', { title: '教授', disciplines: 'G01, management', keywords: '关键词', maxLoad: '0' }, '/expert/profile');
    expect(res.status).to.equal(400);
    expect(res.text).to.match(/id="f-disciplines-error"[^>]*>学科代码格式不正确/);
    expect(res.text).to.match(/id="f-maxLoad-error"[^>]*>请填写 1 到 50 之间的整数/);
    expect(res.text).to.contain('value="G01, management"').and.contain('value="关键词"');
    expect(await ExpertProfile.count()).to.equal(0);
  });

  it('is only for experts', async () => {
    await makeUser({ email: 'pi@example.org' });
    const agent = await signedInAgent('pi@example.org');
    expect((await agent.get('/expert/profile')).status).to.equal(403);
  });
});

describe('expert pool list (officers and admins)', () => {
  beforeEach(resetDb);

  it('searches by name, keyword and discipline prefix, filters by province and availability, and flags sanctions', async () => {
    const sh = await makeInstitution({ provinceCode: 'SH', nameZh: '上海测试大学' });
    const zj = await makeInstitution({ provinceCode: 'ZJ', nameZh: '浙江测试大学' });
    const a = await expert({ email: 'a@example.org', name: '陈供应', institutionId: sh.id, disciplines: ['G0101'], keywords: '供应链；物流' });
    await expert({ email: 'b@example.org', name: '刘金融', institutionId: zj.id, disciplines: ['G0301'], keywords: '金融科技', available: false });
    await expert({ email: 'c@example.org', name: '周治理', institutionId: zj.id, disciplines: ['G0402', 'G0102'], keywords: '区域治理', verified: false });
    await makeUser({ email: 'not-an-expert@example.org', name: '非专家' });
    await makeUser({ email: 'o@example.org', roles: [{ role: 'officer', provinceCode: 'AH' }] });
    await IntegritySanction.create({ subjectType: 'person', subjectUserId: a.id, subjectInstitutionId: null, subjectCreditCode: null, subjectName: '陈供应', provinceCode: 'JS', reason: 'r', legalBasis: 'b', startsAt: new Date(Date.now() - 86_400_000), endsAt: null, createdBy: null, updatedBy: null });
    const agent = await signedInAgent('o@example.org');
    const ids = async (q: string) => [...(await agent.get(`/experts${q}`)).text.matchAll(/data-expert-id="(\d+)"/g)].map((m) => Number(m[1]));
    const all = await agent.get('/experts');
    expect(all.status).to.equal(200);
    expect(all.text).to.not.contain('非专家');
    expect((await ids('')).length).to.equal(3);
    expect(await ids('?q=%E4%BE%9B%E5%BA%94%E9%93%BE')).to.deep.equal([a.id]); // 供应链
    expect((await ids('?discipline=G01')).length).to.equal(2);
    expect((await ids('?discipline=g03')).length).to.equal(1);
    expect((await ids('?province=ZJ')).length).to.equal(2);
    expect((await ids('?province=ZJ&available=1')).length).to.equal(1);
    expect(all.text).to.contain('科研失信惩戒期内').and.contain('已邀请，尚未设置密码');
    expect((await agent.get('/experts?discipline=DROP%20TABLE')).status).to.equal(400);
    const show = await agent.get(`/experts/${a.id}`);
    expect(show.status).to.equal(200);
    expect(show.text).to.contain('不得被分配评审任务').and.contain('上海测试大学').and.contain('G0101');
    expect((await agent.get('/experts/999999')).status).to.equal(404);
  });

  it('sends a fresh invitation to an expert who has not set a password yet, audited', async () => {
    const e = await expert({ email: 'new@example.org', name: '新专家', institutionId: null, disciplines: ['G01'], keywords: '', verified: false });
    const done = await expert({ email: 'done@example.org', name: '老专家', institutionId: null, disciplines: ['G01'], keywords: '' });
    await makeUser({ email: 'admin@example.org', roles: [{ role: 'admin' }] });
    const agent = await signedInAgent('admin@example.org');
    const res = await postForm(agent, `/experts/${e.id}/invite`, {}, `/experts/${e.id}`);
    expect(res.status).to.equal(303);
    const mail = (await OutboxMessage.findOne({ where: { toAddress: 'new@example.org', template: 'expert-invited' } }))!;
    expect(mail.textBody).to.match(/\/password\/reset\/[A-Za-z0-9_-]{43}/);
    expect(await AuditEvent.count({ where: { action: 'expert.reinvite', entityId: String(e.id) } })).to.equal(1);
    await postForm(agent, `/experts/${done.id}/invite`, {}, `/experts/${done.id}`);
    expect(await OutboxMessage.count({ where: { toAddress: 'done@example.org' } })).to.equal(0);
  });
});

describe('demo expert pool', function () {
  this.timeout(120_000);
  before(async () => {
    await resetDb();
    await Province.destroy({ where: {} });
    const { sequelize } = await platform();
    expect(await seedDemo(sequelize, testConfig())).to.equal(true);
  });
  after(resetDb);

  it('seeds about 200 experts over the four provinces with disciplines and keywords, the demo expert included, and one sanction in force', async () => {
    const { sequelize } = await platform();
    const rows = await sequelize.query<{ province: string; n: number | string }>(
      `SELECT i.province_code AS province, COUNT(*) AS n FROM user_roles r JOIN users u ON u.id = r.user_id JOIN institutions i ON i.id = u.institution_id WHERE r.role = 'expert' GROUP BY i.province_code`,
      { type: (await import('sequelize')).QueryTypes.SELECT },
    );
    const byProvince = Object.fromEntries(rows.map((r) => [r.province, Number(r.n)]));
    expect(Object.keys(byProvince).sort()).to.deep.equal(['AH', 'JS', 'SH', 'ZJ']);
    expect(Object.values(byProvince).reduce((a, b) => a + b, 0)).to.be.at.least(200);
    expect(await ExpertProfile.count()).to.be.at.least(201);
    const noDisciplines = await sequelize.query(`SELECT p.user_id FROM expert_profiles p WHERE NOT EXISTS (SELECT 1 FROM expert_disciplines d WHERE d.user_id = p.user_id)`, { type: (await import('sequelize')).QueryTypes.SELECT });
    expect(noDisciplines).to.deep.equal([]);
    expect(await ExpertProfile.count({ where: { keywords: null } })).to.equal(0);
    const demo = (await User.findOne({ where: { email: 'expert@demo.yrd' } }))!;
    expect(await ExpertProfile.count({ where: { userId: demo.id } })).to.equal(1);
    const experts = await UserRole.findAll({ where: { role: 'expert' }, attributes: ['userId'], raw: true });
    const active = await activeSanctionsFor({ userIds: experts.map((r) => r.userId) }, new Date());
    expect(active).to.have.length(1);
    expect(active[0]!.provinceCode).to.equal('SH');
    expect(await User.count({ where: { email: { [Op.like]: 'expert%@demo.yrd' } } })).to.be.at.least(201);
  });
});
