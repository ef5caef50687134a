/**
 * The audit trail: written in the transaction of the change, append-only at the database (both dialects),
 * and browsable by admins with filters (actor e-mail, action prefix, entity, Asia/Shanghai dates).
 */
import { expect } from 'chai';
import supertest from 'supertest';
import { QueryTypes } from 'sequelize';
import { audit, AuditEvent, SYSTEM } from '../../server/platform/audit.js';
import { withTransaction } from '../../server/platform/db.js';
import { csrfFrom, signedInAgent, type Agent } from '../support/agent.js';
import { makeUser } from '../support/factories.js';
import { platform, resetDb } from '../support/platform.js';

/** Insert an event with a chosen time (the app always stamps "now"; the trigger forbids changing it after). */
async function eventAt(e: { actorId: number | null; action: string; entityType: string; entityId: string | null; at: string; after?: unknown }) {
  return AuditEvent.create({ actorId: e.actorId, action: e.action, entityType: e.entityType, entityId: e.entityId, beforeJson: null, afterJson: e.after === undefined ? null : JSON.stringify(e.after), ip: '203.0.113.9', requestId: null, createdAt: new Date(e.at) });
}

const idsOn = (html: string) => [...html.matchAll(/data-audit-id="(\d+)"/g)].map((m) => Number(m[1]));

describe('audit trail', () => {
  beforeEach(resetDb);

  describe('append-only', () => {
    it('the database refuses UPDATE and DELETE of audit rows, by SQL and through the model', async () => {
      const { sequelize } = await platform();
      await withTransaction(sequelize, (t) => audit(t, SYSTEM, { action: 'test.created', entityType: 'thing', entityId: 1, after: { a: 1 } }));
      const row = (await AuditEvent.findOne())!;
      const attempts: Array<[string, () => Promise<unknown>]> = [
        ['UPDATE', () => sequelize.query('UPDATE audit_events SET action = ? WHERE id = ?', { replacements: ['test.forged', row.id] })],
        ['DELETE', () => sequelize.query('DELETE FROM audit_events WHERE id = ?', { replacements: [row.id] })],
        ['UPDATE all', () => sequelize.query("UPDATE audit_events SET after_json = '{}'")],
        ['DELETE all', () => sequelize.query('DELETE FROM audit_events')],
        ['model update', () => row.update({ action: 'test.forged' })],
        ['model destroy', () => row.destroy()],
        ['bulk destroy', () => AuditEvent.destroy({ where: {} })],
      ];
      for (const [what, run] of attempts) {
        let error: unknown = null;
        try {
          await run();
        } catch (e) {
          error = e;
        }
        expect(error, `${what} must fail`).to.be.instanceOf(Error);
        const err = error as Error & { parent?: Error; original?: Error };
        expect(`${err.message} ${err.parent?.message ?? ''} ${err.original?.message ?? ''}`, what).to.contain('append-only');
      }
      const rows = await sequelize.query<{ action: string; after_json: string }>('SELECT action, after_json FROM audit_events', { type: QueryTypes.SELECT });
      expect(rows).to.deep.equal([{ action: 'test.created', after_json: '{"a":1}' }]);
    });

    it('an event written in a transaction that rolls back disappears with the change', async () => {
      const { sequelize } = await platform();
      try {
        await withTransaction(sequelize, async (t) => {
          await audit(t, SYSTEM, { action: 'test.doomed', entityType: 'thing', entityId: 2 });
          throw new Error('rollback');
        });
      } catch {
        /* expected */
      }
      expect(await AuditEvent.count()).to.equal(0);
    });

    it('a change made over HTTP is recorded with its actor, before/after, IP and time, and never with secrets', async () => {
      const user = await makeUser({ email: 'editor@example.org', name: '旧名字' });
      const agent = await signedInAgent('editor@example.org');
      const token = await csrfFrom(agent, '/account');
      const started = Date.now();
      expect((await agent.post('/account/profile').type('form').send({ _csrf: token, name: '新名字', lang: 'zh-CN', institutionId: '' })).status).to.equal(303);
      const [e] = await AuditEvent.findAll({ where: { action: 'user.update_profile' } });
      expect(e!.actorId).to.equal(user.id);
      expect(e!.entityType).to.equal('user');
      expect(e!.entityId).to.equal(String(user.id));
      expect(JSON.parse(e!.beforeJson!)).to.include({ name: '旧名字' });
      expect(JSON.parse(e!.afterJson!)).to.include({ name: '新名字' });
      expect(e!.ip).to.match(/127\.0\.0\.1|::1/);
      expect(e!.createdAt.getTime()).to.be.within(started - 2000, Date.now() + 2000);

      const pwToken = await csrfFrom(agent, '/account');
      await agent.post('/account/password').type('form').send({ _csrf: pwToken, currentPassword: 'correct-horse-battery', newPassword: 'secret-new-password-1', confirmPassword: 'secret-new-password-1' });
      const all = await AuditEvent.findAll();
      expect(all.map((x) => x.action)).to.include('user.password_change');
      expect(all.map((x) => `${x.beforeJson}${x.afterJson}`).join('')).to.not.contain('secret-new-password-1').and.not.contain('$argon2');
    });
  });

  describe('admin page', () => {
    let adminAgent: Agent;
    let alice: Awaited<ReturnType<typeof makeUser>>;
    let admin: Awaited<ReturnType<typeof makeUser>>;
    let e: Record<string, AuditEvent>;

    beforeEach(async () => {
      admin = await makeUser({ email: 'admin@example.org', name: '管理员', roles: [{ role: 'admin' }] });
      alice = await makeUser({ email: 'alice@example.org', name: '爱丽丝' });
      e = {
        // 2026-03-01 23:30 in Shanghai
        reset: await eventAt({ actorId: admin.id, action: 'user.password_reset', entityType: 'user', entityId: '5', at: '2026-03-01T15:30:00Z' }),
        // 2026-03-02 00:30 in Shanghai (still 1 March in UTC)
        requested: await eventAt({ actorId: alice.id, action: 'user.password_reset_requested', entityType: 'user', entityId: '5', at: '2026-03-01T16:30:00Z' }),
        // `_` must not act as a wildcard in the action prefix
        lookalike: await eventAt({ actorId: null, action: 'user.passwordXreset', entityType: 'user', entityId: '6', at: '2026-03-03T04:00:00Z' }),
        institution: await eventAt({ actorId: alice.id, action: 'institution.create', entityType: 'institution', entityId: '7', at: '2026-03-05T02:00:00Z', after: { nameZh: '<b onmouseover="x()">复旦</b>' } }),
      };
      adminAgent = await signedInAgent('admin@example.org');
    });

    const get = (q: string) => adminAgent.get(`/admin/audit${q}`);
    const ids = async (q: string) => {
      const res = await get(q);
      expect(res.status, `${q}: ${res.status}`).to.equal(200);
      return idsOn(res.text);
    };

    it('lists every event newest first, with actor, action, entity, IP and the JSON escaped', async () => {
      const res = await get('');
      expect(res.status).to.equal(200);
      const seeded = [e.institution!.id, e.lookalike!.id, e.requested!.id, e.reset!.id];
      expect(idsOn(res.text).filter((id) => seeded.includes(id)), 'newest first').to.deep.equal(seeded);
      expect(res.text).to.contain('爱丽丝').and.contain('alice@example.org').and.contain('203.0.113.9').and.contain('系统');
      expect(res.text).to.contain('&quot;nameZh&quot;: &quot;&lt;b onmouseover&#x3D;\\&quot;x()\\&quot;&gt;复旦&lt;/b&gt;&quot;');
      expect(res.text).to.not.contain('<b onmouseover');
      expect(res.text).to.contain('2026/03/02 00:30:00'); // Shanghai time
    });

    it('filters by actor e-mail (any case), action prefix, entity type and id', async () => {
      expect(await ids('?actor=alice%40example.org')).to.deep.equal([e.institution!.id, e.requested!.id]);
      expect(await ids('?actor=ALICE%40Example.org')).to.deep.equal([e.institution!.id, e.requested!.id]);
      expect(await ids('?action=user.password_reset')).to.deep.equal([e.requested!.id, e.reset!.id]);
      expect(await ids('?action=user.')).to.deep.equal([e.lookalike!.id, e.requested!.id, e.reset!.id]);
      expect(await ids('?entityType=institution')).to.deep.equal([e.institution!.id]);
      expect(await ids('?entityType=user&entityId=5')).to.deep.equal([e.requested!.id, e.reset!.id]);
      expect(await ids('?actor=alice%40example.org&action=user.')).to.deep.equal([e.requested!.id]);
      const unknown = await get('?actor=nobody%40example.org');
      expect(unknown.status).to.equal(200);
      expect(idsOn(unknown.text)).to.deep.equal([]);
      expect(unknown.text).to.contain('没有使用此邮箱的用户').and.contain('value="nobody@example.org"');
    });

    it('filters by dates in Asia/Shanghai time, both ends inclusive', async () => {
      expect(await ids('?to=2026-03-01')).to.deep.equal([e.reset!.id]);
      expect(await ids('?from=2026-03-02')).to.deep.equal([e.institution!.id, e.lookalike!.id, e.requested!.id]);
      expect(await ids('?from=2026-03-02&to=2026-03-02')).to.deep.equal([e.requested!.id]);
      expect(await ids('?from=2026-03-03&to=2026-03-04')).to.deep.equal([e.lookalike!.id]);
    });

    it('refuses bad filters with 400 and the message next to the field, keeping what was typed', async () => {
      const range = await get('?from=2026-03-05&to=2026-03-01');
      expect(range.status).to.equal(400);
      expect(range.text).to.match(/id="f-to-error"[^>]*>截止日期不能早于起始日期/);
      expect(range.text).to.contain('value="2026-03-05"');
      const notADay = await get('?from=2026-02-30');
      expect(notADay.status).to.equal(400);
      expect(notADay.text).to.match(/id="f-from-error"[^>]*>请输入有效日期/);
      for (const bad of ['2026-13-01', '2026-00-10', '20260301', '2026-3-1', 'yesterday']) expect((await get(`?from=${bad}`)).status, bad).to.equal(400);
      expect((await get('?action=user%25')).status).to.equal(400);
      expect((await get("?entityType=user'%20OR%201%3D1")).status).to.equal(400);
      // An array where one value belongs.
      expect((await get('?action=user.&action=institution.')).status).to.equal(400);
      expect((await get('?actor=a%40b.cn&actor=c%40d.cn')).status).to.equal(400);
      expect((await get('?page=1&page=2')).status).to.equal(400);
      expect((await get(`?entityId=${'9'.repeat(65)}`)).status).to.equal(400);
      // Unknown parameters are ignored (allowlist), not an error.
      expect(idsOn((await get('?sort=id%20DESC&entityType=institution')).text)).to.deep.equal([e.institution!.id]);
    });

    it('pages 50 records at a time, keeping the filters in the page links', async () => {
      for (let i = 0; i < 55; i++) await eventAt({ actorId: alice.id, action: 'proposal.save', entityType: 'proposal', entityId: String(i), at: '2026-04-01T01:00:00Z' });
      const first = await get('?entityType=proposal');
      expect(idsOn(first.text)).to.have.length(50);
      expect(first.text.replace(/&#x3D;/g, '=')).to.contain('href="/admin/audit?entityType=proposal&amp;page=2" rel="next"');
      const second = await get('?entityType=proposal&page=2');
      const rest = idsOn(second.text);
      expect(rest).to.have.length(5);
      expect(idsOn(first.text)).to.not.include.members(rest);
      expect(second.text).to.contain('第 2 / 2 页，共 55 条');
    });

    it('is for admins only', async () => {
      const plain = await signedInAgent('alice@example.org');
      const res = await plain.get('/admin/audit');
      expect(res.status).to.equal(403);
      expect(res.text).to.not.contain('user.password_reset');
      await makeUser({ email: 'officer@example.org', roles: [{ role: 'officer', provinceCode: 'JS' }] });
      expect((await (await signedInAgent('officer@example.org')).get('/admin/audit')).status).to.equal(403);
      const visitor = await supertest((await platform()).app).get('/admin/audit?action=user.');
      expect(visitor.status).to.equal(303);
      expect(visitor.headers.location).to.equal('/login?next=%2Fadmin%2Faudit%3Faction%3Duser.');
    });
  });
});
