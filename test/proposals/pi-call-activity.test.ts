/**
 * The per-PI count of active proposals in each call (限项), kept by the triggers of
 * migrations/20261207000100-create-pi-call-activity.ts and read by the screening list: after random sequences of
 * inserts, status / call / PI changes and deletions of proposals, the kept counts equal a plain recount over the
 * proposals with ACTIVE_STATUSES (the reference), on whichever database the suite runs on. Random statuses are drawn
 * from every status there is, so a trigger whose list of active statuses differed from ACTIVE_STATUSES would fail.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { QueryTypes } from 'sequelize';
import { createMigrator } from '../../server/platform/migrator.js';
import { Proposal } from '../../server/proposals/models.js';
import { ACTIVE_STATUSES, PROPOSAL_STATUSES } from '../../server/proposals/rules.js';
import { makeCall } from '../support/call-factories.js';
import { makeUser } from '../support/factories.js';
import { platform, resetDb } from '../support/platform.js';

type Op =
  | { kind: 'insert'; call: number; pi: number; status: (typeof PROPOSAL_STATUSES)[number] }
  | { kind: 'status'; target: number; status: (typeof PROPOSAL_STATUSES)[number] }
  | { kind: 'move'; target: number; call: number; pi: number }
  | { kind: 'delete'; target: number };

const status = fc.constantFrom(...PROPOSAL_STATUSES);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), call: fc.nat(1), pi: fc.nat(2), status }),
  fc.record({ kind: fc.constant('status' as const), target: fc.nat(20), status }),
  fc.record({ kind: fc.constant('move' as const), target: fc.nat(20), call: fc.nat(1), pi: fc.nat(2) }),
  fc.record({ kind: fc.constant('delete' as const), target: fc.nat(20) }),
);

async function kept(): Promise<Record<string, number>> {
  const { sequelize } = await platform();
  const rows = await sequelize.query<{ call_id: number; pi_user_id: number; active: number }>('SELECT call_id, pi_user_id, active FROM pi_call_activity', { type: QueryTypes.SELECT });
  return Object.fromEntries(rows.filter((r) => Number(r.active) !== 0).map((r) => [`${r.call_id}/${r.pi_user_id}`, Number(r.active)]));
}

async function recount(): Promise<Record<string, number>> {
  const rows = await Proposal.findAll({ attributes: ['callId', 'piUserId', 'status'], raw: true });
  const out: Record<string, number> = {};
  for (const r of rows) if ((ACTIVE_STATUSES as readonly string[]).includes(r.status)) out[`${r.callId}/${r.piUserId}`] = (out[`${r.callId}/${r.piUserId}`] ?? 0) + 1;
  return out;
}

describe('the kept count of each PI\'s active proposals per call (限项)', () => {
  beforeEach(resetDb);

  it('equals a recount over the proposals after random inserts, status changes, moves and deletions', async function () {
    this.timeout(240_000);
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 30 }), async (ops) => {
        await resetDb();
        const calls = [await makeCall(), await makeCall()];
        const pis = [await makeUser(), await makeUser(), await makeUser()];
        const ids: number[] = [];
        for (const op of ops) {
          if (op.kind === 'insert') {
            const p = await Proposal.create({ callId: calls[op.call]!.id, piUserId: pis[op.pi]!.id, title: 'p', status: op.status });
            ids.push(p.id);
            continue;
          }
          if (!ids.length) continue;
          const id = ids[op.target % ids.length]!;
          if (op.kind === 'status') await Proposal.update({ status: op.status }, { where: { id } });
          else if (op.kind === 'move') await Proposal.update({ callId: calls[op.call]!.id, piUserId: pis[op.pi]!.id }, { where: { id } });
          else {
            await Proposal.destroy({ where: { id } });
            ids.splice(ids.indexOf(id), 1);
          }
        }
        expect(await kept(), JSON.stringify(ops)).to.deep.equal(await recount());
      }),
      { numRuns: 30 },
    );
  });

  it('counts the proposals already there when the migration creates it', async () => {
    const { sequelize } = await platform();
    const migrator = createMigrator(sequelize);
    const [last] = (await migrator.executed()).slice(-1);
    expect(last?.name).to.match(/create-pi-call-activity/);
    await migrator.down({ step: 1 });
    try {
      const call = await makeCall();
      const pi = await makeUser();
      for (const s of PROPOSAL_STATUSES) await Proposal.create({ callId: call.id, piUserId: pi.id, title: s, status: s });
    } finally {
      await migrator.up();
    }
    expect(await kept()).to.deep.equal(await recount());
    expect(Object.values(await kept())).to.deep.equal([ACTIVE_STATUSES.length]);
  });
});
