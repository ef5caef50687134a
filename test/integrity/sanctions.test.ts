import { expect } from 'chai';
import { AuditEvent } from '../../server/platform/audit.js';
import { platform, resetDb } from '../support/platform.js';
import { makeInstitution, makeUser } from '../support/factories.js';
import { csrfFrom, postForm, signedInAgent } from '../support/agent.js';
import { IntegritySanction } from '../../server/integrity/models.js';
import { activeSanctionsFor, sanctionProblems } from '../../server/integrity/checks.js';
import { createSanction, liftSanction } from '../../server/integrity/service.js';
import { endAfterLastDay, shanghaiDayStart } from '../../server/integrity/rules.js';
import { syntheticCreditCode } from '../../server/people/rules.js';
import { SYSTEM } from '../../server/platform/audit.js';
import { loadBundle } from '../../server/proposals/bundle.js';
import { makeCompleteDraft } from '../proposals/helpers.js';
import { ProposalSubmission } from '../../server/proposals/models.js';
import type { Actor } from '../../server/platform/policy.js';

const officerActor = (id: number, ...provinces: string[]): Actor => ({ id, email: 'o@example.org', name: 'o', lang: 'zh-CN', institutionId: null, roles: provinces.map((p) => ({ role: 'officer' as const, provinceCode: p })) });

async function officer(province: string, email = `officer.${province.toLowerCase()}@example.org`) {
  return makeUser({ email, name: `${province}项目主管`, roles: [{ role: 'officer', provinceCode: province }] });
}

/** Record a sanction through the service, as an officer of `province`. */
async function record(o: { province?: string; by?: number; email?: string; creditCode?: string; institutionName?: string; startDay?: string; lastDay?: string }) {
  const { sequelize } = await platform();
  const province = o.province ?? 'SH';
  const r = await createSanction(sequelize, { ...SYSTEM, actorId: o.by ?? null }, officerActor(o.by ?? 1, province), {
    subjectType: o.email ? 'person' : 'institution',
    email: o.email ?? '',
    creditCode: o.creditCode ?? '',
    institutionName: o.institutionName ?? '',
    provinceCode: province,
    reason: '数据造假',
    legalBasis: '《科研失信行为调查处理规则》第二十八条',
    startDay: o.startDay ?? '2026-03-01',
    lastDay: o.lastDay ?? '2026-12-31',
  });
  if (!r.ok) throw new Error(JSON.stringify(r));
  return r.id;
}

describe('integrity: sanctions in force (activeSanctionsFor)', () => {
  beforeEach(resetDb);

  it('blocks a person from 00:00 Beijing time on the first day to 24:00 on the last day, not a moment outside', async () => {
    const pi = await makeUser({ email: 'cheat@example.org', name: '王某' });
    const sh = await officer('SH');
    const id = await record({ email: 'cheat@example.org', by: sh.id });
    const start = shanghaiDayStart('2026-03-01')!;
    const end = endAfterLastDay('2026-12-31')!;
    const at = (ms: number) => activeSanctionsFor({ userIds: [pi.id] }, new Date(ms));
    expect(await at(start.getTime() - 1)).to.deep.equal([]);
    const first = await at(start.getTime());
    expect(first.map((s) => s.id)).to.deep.equal([id]);
    expect(first[0]).to.include({ subjectName: '王某', provinceCode: 'SH', lastDay: '2026-12-31', legalBasis: '《科研失信行为调查处理规则》第二十八条' });
    expect((await at(end.getTime() - 1)).map((s) => s.id)).to.deep.equal([id]);
    expect(await at(end.getTime())).to.deep.equal([]);
    expect(await activeSanctionsFor({ userIds: [sh.id] }, start)).to.deep.equal([]);
  });

  it('blocks an institution by its credit code, also when it joins the registry after the sanction', async () => {
    const sh = await officer('SH');
    const code = syntheticCreditCode(424242);
    const id = await record({ creditCode: code.toLowerCase(), institutionName: '某科技有限公司', by: sh.id });
    const inside = shanghaiDayStart('2026-06-01')!;
    expect((await activeSanctionsFor({ creditCodes: [code] }, inside)).map((s) => s.id)).to.deep.equal([id]);
    const inst = await makeInstitution({ creditCode: code, nameZh: '某科技有限公司', provinceCode: 'ZJ', type: 'enterprise' });
    const found = await activeSanctionsFor({ institutionIds: [inst.id] }, inside);
    expect(found.map((s) => s.id)).to.deep.equal([id]);
    expect(found[0]!.subjectCreditCode).to.equal(code);
    expect(await activeSanctionsFor({ institutionIds: [inst.id] }, endAfterLastDay('2026-12-31')!)).to.deep.equal([]);
    const other = await makeInstitution({ provinceCode: 'ZJ' });
    expect(await activeSanctionsFor({ institutionIds: [other.id] }, inside)).to.deep.equal([]);
  });

  it('stops blocking at the moment a sanction is lifted, and still answers for the time before', async () => {
    const { sequelize } = await platform();
    const person = await makeUser({ email: 'lifted@example.org' });
    const sh = await officer('SH');
    const id = await record({ email: 'lifted@example.org', by: sh.id, lastDay: '' });
    const liftAt = new Date('2026-05-01T04:00:00.000Z');
    const r = await liftSanction(sequelize, { ...SYSTEM, actorId: sh.id }, officerActor(sh.id, 'SH'), id, '复核撤销', liftAt);
    expect(r.ok).to.equal(true);
    expect(await activeSanctionsFor({ userIds: [person.id] }, new Date(liftAt.getTime() - 1000))).to.have.length(1);
    expect(await activeSanctionsFor({ userIds: [person.id] }, liftAt)).to.deep.equal([]);
  });

  it('counts a sanction the moment it is recorded or lifted, though the register is read from memory', async () => {
    const { sequelize } = await platform();
    const person = await makeUser({ email: 'fresh@example.org' });
    const sh = await officer('SH');
    const now = new Date();
    expect(await activeSanctionsFor({ userIds: [person.id] }, now), 'the register is read (and kept) with nobody on it').to.deep.equal([]);
    const id = await record({ email: 'fresh@example.org', by: sh.id, startDay: '2020-01-01', lastDay: '' });
    expect((await activeSanctionsFor({ userIds: [person.id] }, now)).map((s) => s.id)).to.deep.equal([id]);
    const r = await liftSanction(sequelize, { ...SYSTEM, actorId: sh.id }, officerActor(sh.id, 'SH'), id, '复核撤销', now);
    expect(r.ok).to.equal(true);
    expect(await activeSanctionsFor({ userIds: [person.id] }, new Date(now.getTime() + 1000))).to.deep.equal([]);
  });

  it('turns into checklist items that stop a sanctioned PI from submitting, naming the sanction', async () => {
    const { proposal, partnerInst, pi } = await makeCompleteDraft();
    const sh = await officer('SH');
    await record({ email: pi.email, by: sh.id, startDay: '2020-01-01', lastDay: '' });
    await record({ creditCode: partnerInst.creditCode, by: sh.id, startDay: '2020-01-01', lastDay: '' });
    const bundle = (await loadBundle(proposal.id))!;
    const items = await sanctionProblems(bundle, new Date());
    expect(items).to.have.length(2);
    expect(items[0]).to.deep.include({ key: 'sanctionOpenEnded', ok: false, step: 'consortium' });
    expect(items.map((i) => i.params!.who).sort()).to.deep.equal([pi.name, partnerInst.nameZh].sort());
    expect(items[0]!.params).to.include({ until: '', province: 'SH' });
    // Before the sanctions started, nothing.
    expect(await sanctionProblems(bundle, new Date('2019-12-31T00:00:00Z'))).to.deep.equal([]);
  });

  it('refuses a sanctioned PI\'s submit and shows the sanction in the editor', async () => {
    const { proposal, pi } = await makeCompleteDraft();
    const sh = await officer('SH');
    await record({ email: pi.email, by: sh.id, startDay: '2020-01-01', lastDay: '' });
    const agent = await signedInAgent(pi.email);
    const page = await agent.get(`/proposals/${proposal.id}/edit/submit`);
    expect(page.text).to.contain(`${pi.name} 处于科研失信惩戒期内（上海市 记录`).and.contain('无固定期限');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
    const res = await agent.post(`/proposals/${proposal.id}/submit`).type('form').send({ _csrf: csrf, idempotencyKey: 'k'.repeat(32) });
    expect(res.status).to.be.oneOf([303, 400, 409]);
    await proposal.reload();
    expect(proposal.status).to.equal('draft');
    expect(await ProposalSubmission.count({ where: { proposalId: proposal.id } })).to.equal(0);
  });
});

describe('integrity: pages', () => {
  beforeEach(resetDb);

  it('lets an officer record a sanction for their province, audited, and every province and admin sees it', async () => {
    const target = await makeUser({ email: 'subject@example.org', name: '李某某' });
    const sh = await officer('SH');
    await officer('AH');
    await makeUser({ email: 'admin@example.org', roles: [{ role: 'admin' }] });
    const agent = await signedInAgent(sh.email);
    const res = await postForm(
      agent,
      '/integrity',
      { subjectType: 'person', email: 'Subject@Example.org', provinceCode: 'SH', reason: '论文图片造假', legalBasis: '沪科监〔2026〕1号', startDay: '2026-01-01', lastDay: '2028-12-31' },
      '/integrity/new',
    );
    expect(res.status, res.text.slice(0, 500)).to.equal(303);
    const row = (await IntegritySanction.findOne())!;
    expect(row).to.deep.include({ subjectType: 'person', subjectUserId: target.id, subjectName: '李某某', provinceCode: 'SH', createdBy: sh.id });
    expect(res.headers.location).to.equal(`/integrity/${row.id}`);
    const ev = (await AuditEvent.findOne({ where: { action: 'integrity.create', entityId: String(row.id) } }))!;
    expect(ev.actorId).to.equal(sh.id);
    expect(JSON.parse(ev.afterJson!)).to.include({ subjectUserId: target.id, provinceCode: 'SH', reason: '论文图片造假' });

    for (const email of ['officer.ah@example.org', 'admin@example.org']) {
      const a = await signedInAgent(email);
      const list = await a.get('/integrity');
      expect(list.status).to.equal(200);
      expect(list.text).to.contain('李某某').and.contain(`data-sanction-id="${row.id}"`).and.contain('惩戒期内');
      const show = await a.get(`/integrity/${row.id}`);
      expect(show.status).to.equal(200);
      expect(show.text).to.contain('论文图片造假').and.contain('2028-12-31').and.contain('SH项目主管');
    }
  });

  it('refuses everyone but officers the pages and the recording (admins read only)', async () => {
    await makeUser({ email: 'pi@example.org' });
    await makeUser({ email: 'expert@example.org', roles: [{ role: 'expert' }] });
    await makeUser({ email: 'admin@example.org', roles: [{ role: 'admin' }] });
    for (const email of ['pi@example.org', 'expert@example.org']) {
      const a = await signedInAgent(email);
      expect((await a.get('/integrity')).status).to.equal(403);
    }
    const admin = await signedInAgent('admin@example.org');
    expect((await admin.get('/integrity/new')).status).to.equal(403);
    const token = await csrfFrom(admin, '/integrity');
    const post = await admin.post('/integrity').type('form').send({ _csrf: token, subjectType: 'person', email: 'pi@example.org', provinceCode: 'SH', reason: 'x', legalBasis: 'y', startDay: '2026-01-01' });
    expect(post.status).to.equal(403);
    expect(await IntegritySanction.count()).to.equal(0);
  });

  it('keeps what was typed and shows each error next to its field; another province is refused', async () => {
    const sh = await officer('SH');
    const agent = await signedInAgent(sh.email);
    const bad = await postForm(agent, '/integrity', { subjectType: 'institution', creditCode: '91310000MA1FL4XQ3C', provinceCode: 'SH', reason: '', legalBasis: '依据', startDay: '2026-01-01', lastDay: '2025-01-01' }, '/integrity/new');
    expect(bad.status).to.equal(400);
    expect(bad.text).to.match(/id="f-reason-error"[^>]*>请填写失信行为及处理理由/);
    expect(bad.text).to.contain('value="91310000MA1FL4XQ3C"').and.contain('value="依据"');
    const code = await postForm(agent, '/integrity', { subjectType: 'institution', creditCode: '91310000MA1FL4XQ3C', provinceCode: 'SH', reason: '理由', legalBasis: '依据', startDay: '2026-01-01', lastDay: '2025-01-01' }, '/integrity/new');
    expect(code.status).to.equal(400);
    expect(code.text).to.match(/id="f-creditCode-error"[^>]*>[^<]*校验/);
    expect(code.text).to.match(/id="f-lastDay-error"[^>]*>截止日期不能早于开始日期/);
    const other = await postForm(agent, '/integrity', { subjectType: 'institution', creditCode: syntheticCreditCode(5), institutionName: '某公司', provinceCode: 'ZJ', reason: '理由', legalBasis: '依据', startDay: '2026-01-01' }, '/integrity/new');
    expect(other.status).to.equal(400);
    expect(other.text).to.match(/id="f-provinceCode-error"[^>]*>只能以您所主管的省市记录/);
    const nobody = await postForm(agent, '/integrity', { subjectType: 'person', email: 'ghost@example.org', provinceCode: 'SH', reason: '理由', legalBasis: '依据', startDay: '2026-01-01' }, '/integrity/new');
    expect(nobody.status).to.equal(400);
    expect(nobody.text).to.match(/id="f-email-error"[^>]*>平台中没有使用此邮箱的账号/);
    expect(await IntegritySanction.count()).to.equal(0);
  });

  it('lets only officers of the recording province correct or lift, each change audited with before and after', async () => {
    const target = await makeUser({ email: 'subject@example.org' });
    const sh = await officer('SH');
    const js = await officer('JS');
    const id = await record({ email: target.email, by: sh.id, startDay: '2026-01-01', lastDay: '2030-12-31' });

    const other = await signedInAgent(js.email);
    expect((await other.get(`/integrity/${id}/edit`)).status).to.equal(403);
    const page = await other.get(`/integrity/${id}`);
    expect(page.text).to.contain('只有记录省市的项目主管可以修改或解除此记录');
    const token = await csrfFrom(other, `/integrity/${id}`);
    expect((await other.post(`/integrity/${id}/lift`).type('form').send({ _csrf: token, liftReason: '越权' })).status).to.equal(403);

    const owner = await signedInAgent(sh.email);
    const noReason = await postForm(owner, `/integrity/${id}`, { reason: '更正后的理由', legalBasis: '新依据', startDay: '2026-01-01', lastDay: '2029-12-31', changeReason: '' }, `/integrity/${id}/edit`);
    expect(noReason.status).to.equal(400);
    expect(noReason.text).to.match(/id="f-changeReason-error"/);
    const edit = await postForm(owner, `/integrity/${id}`, { reason: '更正后的理由', legalBasis: '新依据', startDay: '2026-01-01', lastDay: '2029-12-31', changeReason: '复核更正期限' }, `/integrity/${id}/edit`);
    expect(edit.status).to.equal(303);
    const upd = (await AuditEvent.findOne({ where: { action: 'integrity.update', entityId: String(id) } }))!;
    expect(JSON.parse(upd.beforeJson!)).to.include({ reason: '数据造假' });
    expect(JSON.parse(upd.afterJson!)).to.include({ reason: '更正后的理由', legalBasis: '新依据', changeReason: '复核更正期限' });

    const lift = await postForm(owner, `/integrity/${id}/lift`, { liftReason: '申诉成立' }, `/integrity/${id}`);
    expect(lift.status).to.equal(303);
    const row = (await IntegritySanction.findByPk(id))!;
    expect(row.liftedAt).to.be.instanceOf(Date);
    expect(row.liftReason).to.equal('申诉成立');
    const ev = (await AuditEvent.findOne({ where: { action: 'integrity.lift', entityId: String(id) } }))!;
    expect(JSON.parse(ev.beforeJson!).liftedAt).to.equal(null);
    expect(JSON.parse(ev.afterJson!)).to.include({ liftReason: '申诉成立' });
    expect(await activeSanctionsFor({ userIds: [target.id] }, new Date())).to.deep.equal([]);
    const show = await owner.get(`/integrity/${id}`);
    expect(show.text).to.contain('已提前解除').and.contain('申诉成立').and.contain('复核更正期限');
    // A lifted sanction is not edited any more.
    expect((await postForm(owner, `/integrity/${id}`, { reason: 'x', legalBasis: 'y', startDay: '2026-01-01', lastDay: '', changeReason: 'z' }, `/integrity/${id}`)).status).to.equal(403);
  });

  it('shows script typed into a sanction as text, never as markup', async () => {
    const target = await makeUser({ email: 'x@example.org', name: '<img src=x onerror=alert(1)>' });
    const sh = await officer('SH');
    const id = await record({ email: target.email, by: sh.id });
    await IntegritySanction.update({ reason: '<script>alert("r")</script>' }, { where: { id } });
    const agent = await signedInAgent(sh.email);
    for (const path of ['/integrity', `/integrity/${id}`, `/integrity/${id}/edit`]) {
      const res = await agent.get(path);
      expect(res.text, path).to.not.contain('<img src=x').and.not.contain('<script>alert');
      expect(res.text, path).to.contain('&lt;img src&#x3D;x');
    }
  });

  it('filters the shared list by state and province, and finds a sanction by e-mail', async () => {
    const a = await makeUser({ email: 'alpha@example.org', name: '甲' });
    const b = await makeUser({ email: 'beta@example.org', name: '乙' });
    const sh = await officer('SH');
    const zj = await officer('ZJ');
    await record({ email: a.email, by: sh.id, startDay: '2020-01-01', lastDay: '2020-12-31' });
    await record({ email: b.email, by: zj.id, province: 'ZJ', startDay: '2020-01-01', lastDay: '' });
    const agent = await signedInAgent(sh.email);
    const active = await agent.get('/integrity?state=active');
    expect(active.text).to.contain('beta@example.org').and.not.contain('alpha@example.org');
    const ended = await agent.get('/integrity?state=ended');
    expect(ended.text).to.contain('alpha@example.org').and.not.contain('beta@example.org');
    const zjOnly = await agent.get('/integrity?province=ZJ');
    expect(zjOnly.text).to.contain('beta@example.org').and.not.contain('alpha@example.org');
    const byMail = await agent.get('/integrity?q=alpha%40');
    expect(byMail.text).to.contain('alpha@example.org').and.not.contain('beta@example.org');
    expect((await agent.get('/integrity?state=bogus')).status).to.equal(400);
  });
});
