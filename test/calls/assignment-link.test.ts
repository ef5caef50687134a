import { expect } from 'chai';
import { resetDb } from '../support/platform.js';
import { makeUser } from '../support/factories.js';
import { signedInAgent } from '../support/agent.js';
import { makeCall } from '../support/call-factories.js';

describe('call page: the way to the reviewer assignment', () => {
  beforeEach(resetDb);

  it('shows officers of a pledging province the assignment link once submissions are closed, and nobody else', async () => {
    const open = await makeCall();
    const closed = await makeCall({ status: 'in_review' });
    await makeUser({ email: 'o.sh@example.org', roles: [{ role: 'officer', provinceCode: 'SH' }] });
    await makeUser({ email: 'pi.x@example.org' });
    const officer = await signedInAgent('o.sh@example.org');
    expect((await officer.get(`/calls/${closed.id}`)).text).to.contain(`href="/calls/${closed.id}/assignment"`);
    expect((await officer.get(`/calls/${open.id}`)).text).not.to.contain('/assignment"');
    const pi = await signedInAgent('pi.x@example.org');
    expect((await pi.get(`/calls/${closed.id}`)).text).not.to.contain('/assignment"');
  });
});
