/**
 * The run computes outside the write transaction: whatever changes meanwhile must be detected at storing time,
 * never silently overwritten — and an unchanged world is stored as before.
 */
import { expect } from 'chai';
import { Op } from 'sequelize';
import { AuditEvent, SYSTEM } from '../../server/platform/audit.js';
import { CHANGED_DURING_RUN, planAssignment, runAssignment, storeAssignment, type AssignmentPlan } from '../../server/review/assignment-run.js';
import { addConstraint, declineInvitation, sendInvitations } from '../../server/review/assignment-service.js';
import { declareConflict } from '../../server/review/experts-conflicts.js';
import { ExpertProfile } from '../../server/review/models.js';
import { ReviewAssignment } from '../../server/review/review-models.js';
import { platform, resetDb } from '../support/platform.js';
import { world } from './assignment-fixtures.js';

type World = Awaited<ReturnType<typeof world>>;

async function plan(callId: number): Promise<AssignmentPlan> {
  const { sequelize } = await platform();
  const planned = await planAssignment(sequelize, callId);
  if (!planned.ok) throw new Error(planned.reason);
  return planned.plan;
}

const proposedOf = (callId: number) => ReviewAssignment.findAll({ where: { callId, status: 'proposed' }, raw: true });
const rowsOf = async (callId: number) => (await ReviewAssignment.findAll({ where: { callId }, order: [['id', 'ASC']], raw: true })).map((r) => [r.id, r.status]);
const runs = (callId: number) => AuditEvent.count({ where: { action: 'assignment.run', entityId: String(callId) } });

describe('review: an assignment run is computed outside the write transaction, and stale results are refused', function () {
  this.timeout(30_000);
  beforeEach(resetDb);

  it('an expert declaring a conflict while the run computes: nothing is stored, the officer is told to run again; the re-run honours it', async () => {
    const { sequelize } = await platform();
    const w = await world();
    const p = await plan(w.call.id);
    const a = p.result.assignments[0]!;
    expect((await declareConflict(sequelize, SYSTEM, Number(a.expertId), Number(a.proposalId), '合作者')).ok).to.equal(true);

    expect(await storeAssignment(sequelize, SYSTEM, p)).to.deep.equal({ ok: false, reason: CHANGED_DURING_RUN });
    expect(await proposedOf(w.call.id)).to.have.length(0);
    expect(await runs(w.call.id)).to.equal(0);

    const out = await runAssignment(sequelize, SYSTEM, w.call.id);
    expect(out.ok).to.equal(true);
    const rows = await proposedOf(w.call.id);
    expect(rows.length).to.equal(w.proposals.length * 3);
    expect(rows.some((r) => r.expertUserId === Number(a.expertId) && r.proposalId === Number(a.proposalId)), 'the declared pair').to.equal(false);
  });

  it('detects a pin, a forbid, an invitation, a decline and an expert going unavailable made during the run', async () => {
    const { sequelize } = await platform();
    const w = await world();
    expect((await runAssignment(sequelize, SYSTEM, w.call.id)).ok).to.equal(true);
    const changes: Array<[string, (w: World, p: AssignmentPlan) => Promise<unknown>]> = [
      ['pin', (w, p) => addConstraint(sequelize, SYSTEM, { callId: w.call.id, proposalId: w.proposals[1]!.id, expertUserId: unassigned(w, p, w.proposals[1]!.id), kind: 'pin', reason: '领域权威' })],
      ['forbid', (w, p) => addConstraint(sequelize, SYSTEM, { callId: w.call.id, proposalId: w.proposals[2]!.id, expertUserId: Number(p.result.assignments.find((a) => a.proposalId === w.proposals[2]!.id)!.expertId), kind: 'forbid', reason: '近期合作' })],
      ['invite', (w) => sendInvitations(sequelize, SYSTEM, w.call.id, 'http://127.0.0.1:3000')],
      [
        'decline',
        async (w) => {
          const row = (await ReviewAssignment.findOne({ where: { callId: w.call.id, status: 'invited' } }))!;
          return declineInvitation(sequelize, SYSTEM, row.expertUserId, row.id, { reason: '时间冲突', conflict: false });
        },
      ],
      ['unavailable', (w) => ExpertProfile.update({ available: false }, { where: { userId: w.experts[5]!.id } })],
    ];
    for (const [what, change] of changes) {
      const p = await plan(w.call.id);
      await change(w, p);
      const after = await rowsOf(w.call.id);
      expect(await storeAssignment(sequelize, SYSTEM, p), what).to.deep.equal({ ok: false, reason: CHANGED_DURING_RUN });
      // The refused store left the rows as the change made them.
      expect(await rowsOf(w.call.id), what).to.deep.equal(after);
    }
    // Nothing changing: the plan is stored, invited rows kept, the unavailable expert not proposed.
    const p = await plan(w.call.id);
    const out = await storeAssignment(sequelize, SYSTEM, p);
    expect(out.ok).to.equal(true);
    const invited = await ReviewAssignment.count({ where: { callId: w.call.id, status: { [Op.in]: ['invited', 'accepted'] } } });
    expect(invited).to.equal(p.kept.size);
    const proposed = (await proposedOf(w.call.id)).map((r) => `${r.proposalId}:${r.expertUserId}`).sort();
    expect(proposed).to.deep.equal(p.result.assignments.map((a) => `${a.proposalId}:${a.expertId}`).filter((k) => !p.kept.has(k)).sort());
    expect(proposed.some((k) => k.endsWith(`:${w.experts[5]!.id}`)), 'the unavailable expert').to.equal(false);
  });
});

/** An expert not on the proposal in the plan, and not the conflicted expert 0. */
function unassigned(w: World, p: AssignmentPlan, proposalId: number): number {
  const on = new Set(p.result.assignments.filter((a) => a.proposalId === proposalId).map((a) => Number(a.expertId)));
  return w.experts.find((e) => e.id !== w.experts[0]!.id && !on.has(e.id))!.id;
}
