/**
 * The screening list keeps the calls in scope for a second (read-cache.ts). A change to a call made in this
 * process must show on the very next view: a call published, renamed, or with new rules.
 */
import { expect } from 'chai';
import { Call } from '../../server/calls/models.js';
import { callScopes } from '../../server/proposals/screening-service.js';
import { makeCall } from '../support/call-factories.js';
import { platform, resetDb } from '../support/platform.js';

describe('screening: the cached calls in scope follow every change at once', () => {
  beforeEach(resetDb);

  it('sees a published call, a new title, new rules and a call going back to draft on the next read', async () => {
    const { sequelize } = await platform();
    const call = await makeCall();
    const before = await callScopes(sequelize);
    expect(before.map((c) => c.id)).to.include(call.id);

    await Call.update({ titleZh: '改过名的指南' }, { where: { id: call.id } }); // a bulk update
    expect((await callScopes(sequelize)).find((c) => c.id === call.id)!.titleZh).to.equal('改过名的指南');

    const row = (await Call.findByPk(call.id))!;
    row.rulesJson = JSON.stringify({ ...JSON.parse(row.rulesJson), minProvinces: 4 });
    await row.save(); // an instance save
    expect((await callScopes(sequelize)).find((c) => c.id === call.id)!.rules.minProvinces).to.equal(4);

    await sequelize.transaction(async (t) => {
      await Call.update({ status: 'draft' }, { where: { id: call.id }, transaction: t });
      // A read outside the transaction meanwhile may load the old rows; the commit drops them again.
      await callScopes(sequelize);
    });
    expect((await callScopes(sequelize)).map((c) => c.id)).to.not.include(call.id);

    const second = await makeCall();
    expect((await callScopes(sequelize)).map((c) => c.id)).to.include(second.id);
  });
});
