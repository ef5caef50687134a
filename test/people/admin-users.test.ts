import { expect } from 'chai';
import { resetDb } from '../support/platform.js';
import { makeInstitution, makeUser } from '../support/factories.js';
import { newAgent, postForm, signIn, signedInAgent, type Agent } from '../support/agent.js';
import { AuditEvent } from '../../server/platform/audit.js';
import { User, UserRole } from '../../server/people/models.js';

const actions = async (action: string) => AuditEvent.findAll({ where: { action }, order: [['id', 'ASC']] });
const rolesOf = async (userId: number) => (await UserRole.findAll({ where: { userId }, order: [['id', 'ASC']] })).map((r) => [r.role, r.provinceCode ?? r.institutionId ?? ''].join(':'));
const decode = (html: string) => html.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');

async function signedInAdmin(): Promise<{ agent: Agent; id: number }> {
  const u = await makeUser({ email: 'root@example.org', name: '管理员', roles: [{ role: 'admin' }] });
  return { agent: await signedInAgent('root@example.org'), id: u.id };
}

/** A signed-in target user: their agent shows whether their session still works. */
async function signedInTarget(o: Parameters<typeof makeUser>[0] = {}) {
  const user = await makeUser({ email: 'target@example.org', name: '目标用户', ...o });
  const agent = await signedInAgent('target@example.org');
  expect((await agent.get('/account')).status).to.equal(200);
  return { user, agent };
}
const sessionEnded = async (agent: Agent) => {
  const res = await agent.get('/account');
  return res.status === 303 && /^\/login/.test(res.headers.location ?? '');
};

describe('admin: users and roles', () => {
  beforeEach(resetDb);

  it('refuses /admin/users to anyone but an admin (403 with the reason)', async () => {
    await makeUser({ email: 'officer@example.org', roles: [{ role: 'officer', provinceCode: 'SH' }] });
    const agent = await signedInAgent('officer@example.org');
    for (const path of ['/admin/users', '/admin/users/1']) {
      const res = await agent.get(path);
      expect(res.status, path).to.equal(403);
      expect(res.text).to.contain('此页面仅限平台管理员访问');
    }
    const target = await makeUser();
    const grant = await postForm(agent, `/admin/users/${target.id}/roles`, { role: 'admin' });
    expect(grant.status).to.equal(403);
    expect(await rolesOf(target.id)).to.deep.equal(['applicant:']);
  });

  it('searches by name or e-mail (wildcards literal), filters by role, pages by 50', async () => {
    const { agent } = await signedInAdmin();
    await makeUser({ email: 'zhang_san@example.org', name: '张三' });
    await makeUser({ email: 'lisi@example.org', name: '李四', roles: [{ role: 'expert' }] });
    await makeUser({ email: 'wangwu@example.org', name: '王五', roles: [{ role: 'officer', provinceCode: 'JS' }] });
    const names = async (qs: string) => [...(await agent.get(`/admin/users?${qs}`)).text.matchAll(/<tr data-user-id="\d+">\s*<td><a [^>]+>([^<]+)/g)].map((m) => m[1]);
    expect(await names('q=%E5%BC%A0')).to.deep.equal(['张三']); // 张
    expect(await names('q=LISI@')).to.deep.equal(['李四']);
    expect(await names('q=g_s')).to.deep.equal(['张三']); // "_" literal: only zhang_san
    expect(await names('q=%25')).to.deep.equal([]);
    expect(await names('role=expert')).to.deep.equal(['李四']);
    expect(await names('role=officer')).to.deep.equal(['王五']);
    expect((await agent.get('/admin/users?role=officer')).text).to.contain('项目主管 · 江苏省');
    expect((await agent.get('/admin/users?role=emperor')).status).to.equal(400);

    for (let i = 0; i < 50; i++) await makeUser({ name: `批量用户${String(i).padStart(2, '0')}`, roles: [{ role: 'expert' }] });
    const first = await agent.get('/admin/users?role=expert');
    expect(first.text.match(/data-user-id=/g)).to.have.length(50);
    expect(decode(first.text)).to.contain('href="/admin/users?role=expert&page=2"');
    const second = await agent.get('/admin/users?role=expert&page=2');
    expect(second.text.match(/data-user-id=/g)).to.have.length(1);
  });

  it('shows a user with institution and scoped roles', async () => {
    const { agent } = await signedInAdmin();
    const inst = await makeInstitution({ nameZh: '复旦大学' });
    const u = await makeUser({ name: '赵六', institutionId: inst.id, roles: [{ role: 'officer', provinceCode: 'ZJ' }, { role: 'institution_admin', institutionId: inst.id }] });
    const res = await agent.get(`/admin/users/${u.id}`);
    expect(res.status).to.equal(200);
    expect(res.text).to.contain('赵六').and.contain('复旦大学').and.contain('浙江省').and.contain('依托单位管理员');
    expect((await agent.get('/admin/users/999999')).status).to.equal(404);
  });

  it('grants a scoped role: audited before/after, and the target must sign in again', async () => {
    const { agent, id: adminId } = await signedInAdmin();
    const { user, agent: targetAgent } = await signedInTarget();

    const noProvince = await postForm(agent, `/admin/users/${user.id}/roles`, { role: 'officer', provinceCode: '' });
    expect(noProvince.status).to.equal(400);
    expect(noProvince.text).to.match(/id="f-provinceCode-error"[^>]*>项目主管必须指定所属省市/);
    expect(noProvince.text).to.match(/<option value="officer" selected>/);
    expect(await rolesOf(user.id)).to.deep.equal(['applicant:']);
    expect(await sessionEnded(targetAgent)).to.equal(false);

    const res = await postForm(agent, `/admin/users/${user.id}/roles`, { role: 'officer', provinceCode: 'SH', institutionId: '' });
    expect(res.status).to.equal(303);
    expect(await rolesOf(user.id)).to.deep.equal(['applicant:', 'officer:SH']);
    expect((await UserRole.findOne({ where: { userId: user.id, role: 'officer' } }))!.grantedBy).to.equal(adminId);
    const [event] = await actions('user.grant_role');
    expect(event!.actorId).to.equal(adminId);
    expect(JSON.parse(event!.beforeJson!).roles).to.have.length(1);
    expect(JSON.parse(event!.afterJson!).roles).to.deep.include({ role: 'officer', provinceCode: 'SH', institutionId: null });
    expect(await sessionEnded(targetAgent)).to.equal(true);
    // At the next sign-in the new role applies.
    const again = await signedInAgent('target@example.org');
    expect((await again.get('/admin/institution-requests')).status).to.equal(200);
  });

  it('refuses a duplicate grant with a message, and an institution admin without institution', async () => {
    const { agent } = await signedInAdmin();
    const inst = await makeInstitution();
    const user = await makeUser({ roles: [{ role: 'officer', provinceCode: 'SH' }] });
    const dup = await postForm(agent, `/admin/users/${user.id}/roles`, { role: 'officer', provinceCode: 'SH' });
    expect(dup.status).to.equal(400);
    expect(dup.text).to.match(/id="f-role-error"[^>]*>该用户已拥有此角色/);
    // Same role, another province: a different scope, allowed.
    expect((await postForm(agent, `/admin/users/${user.id}/roles`, { role: 'officer', provinceCode: 'AH' })).status).to.equal(303);
    const noInst = await postForm(agent, `/admin/users/${user.id}/roles`, { role: 'institution_admin', provinceCode: 'SH' });
    expect(noInst.status).to.equal(400);
    expect(noInst.text).to.contain('依托单位管理员必须指定单位');
    expect((await postForm(agent, `/admin/users/${user.id}/roles`, { role: 'institution_admin', institutionId: String(inst.id), provinceCode: 'SH' })).status).to.equal(303);
    // The province typed along with a non-officer role is not stored.
    expect(await rolesOf(user.id)).to.deep.equal(['officer:SH', 'officer:AH', `institution_admin:${inst.id}`]);
    expect((await postForm(agent, `/admin/users/${user.id}/roles`, { role: 'officer', provinceCode: 'XX' })).status).to.equal(400);
    expect(await actions('user.grant_role')).to.have.length(2);
  });

  it('revokes a role: audited, sessions ended', async () => {
    const { agent } = await signedInAdmin();
    const { user, agent: targetAgent } = await signedInTarget({ roles: [{ role: 'applicant' }, { role: 'expert' }] });
    const expert = (await UserRole.findOne({ where: { userId: user.id, role: 'expert' } }))!;
    const res = await postForm(agent, `/admin/users/${user.id}/roles/${expert.id}/revoke`, {});
    expect(res.status).to.equal(303);
    expect(await rolesOf(user.id)).to.deep.equal(['applicant:']);
    const [event] = await actions('user.revoke_role');
    expect(JSON.parse(event!.beforeJson!).roles.map((r: { role: string }) => r.role)).to.deep.equal(['applicant', 'expert']);
    expect(JSON.parse(event!.afterJson!).revoked).to.include({ role: 'expert' });
    expect(await sessionEnded(targetAgent)).to.equal(true);
    // A role of another user cannot be revoked through this user's URL.
    const other = await makeUser({ roles: [{ role: 'expert' }] });
    const foreign = (await UserRole.findOne({ where: { userId: other.id } }))!;
    expect((await postForm(agent, `/admin/users/${user.id}/roles/${foreign.id}/revoke`, {})).status).to.equal(404);
    expect(await UserRole.count({ where: { id: foreign.id } })).to.equal(1);
  });

  it('an admin cannot revoke their own admin role nor disable themselves (403 with the reason)', async () => {
    const { agent, id } = await signedInAdmin();
    const own = (await UserRole.findOne({ where: { userId: id, role: 'admin' } }))!;
    const page = await agent.get(`/admin/users/${id}`);
    expect(page.text).to.contain('不能撤销您自己的平台管理员角色').and.contain('不能停用您自己的账号');
    expect(page.text).not.to.contain(`/roles/${own.id}/revoke`);
    const revoke = await postForm(agent, `/admin/users/${id}/roles/${own.id}/revoke`, {});
    expect(revoke.status).to.equal(403);
    expect(revoke.text).to.contain('不能撤销您自己的平台管理员角色');
    const disable = await postForm(agent, `/admin/users/${id}/disable`, {});
    expect(disable.status).to.equal(403);
    expect(disable.text).to.contain('不能停用您自己的账号');
    expect(await rolesOf(id)).to.deep.equal(['admin:']);
    expect((await User.findByPk(id))!.disabledAt).to.equal(null);
    expect(await actions('user.revoke_role')).to.have.length(0);
    // Another admin may revoke it.
    await makeUser({ email: 'root2@example.org', roles: [{ role: 'admin' }] });
    const second = await signedInAgent('root2@example.org');
    expect((await postForm(second, `/admin/users/${id}/roles/${own.id}/revoke`, {})).status).to.equal(303);
    expect(await rolesOf(id)).to.deep.equal([]);
  });

  it('an admin granting themselves a role keeps their session, with the new role', async () => {
    const { agent, id } = await signedInAdmin();
    const res = await postForm(agent, `/admin/users/${id}/roles`, { role: 'officer', provinceCode: 'ZJ' });
    expect(res.status).to.equal(303);
    const home = await agent.get('/');
    expect(home.status).to.equal(200);
    expect(home.text).to.contain('data-role="officer"');
  });

  it('disabling ends the user’s session at once and refuses sign-in; enabling lets them back', async () => {
    const { agent } = await signedInAdmin();
    const { user, agent: targetAgent } = await signedInTarget();
    const res = await postForm(agent, `/admin/users/${user.id}/disable`, {});
    expect(res.status).to.equal(303);
    expect((await user.reload()).disabledAt).to.be.instanceOf(Date);
    expect(await sessionEnded(targetAgent)).to.equal(true);
    const retry = await signIn(await newAgent(), 'target@example.org');
    expect(retry.status).to.equal(401);
    const [event] = await actions('user.disable');
    expect(JSON.parse(event!.beforeJson!)).to.deep.equal({ disabledAt: null });
    expect(JSON.parse(event!.afterJson!).disabledAt).to.be.a('string');
    expect((await agent.get(`/admin/users/${user.id}`)).text).to.contain('已停用');

    expect((await postForm(agent, `/admin/users/${user.id}/enable`, {})).status).to.equal(303);
    expect((await user.reload()).disabledAt).to.equal(null);
    expect(await actions('user.enable')).to.have.length(1);
    expect((await signIn(await newAgent(), 'target@example.org')).status).to.equal(303);
  });
});
