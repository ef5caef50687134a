import { expect } from 'chai';
import { platform, resetDb } from '../support/platform.js';
import { consume, lockedUntil, recordHit } from '../../server/platform/throttle.js';
import { LOCKOUT } from '../../server/people/rules.js';

const MIN = 60_000;
/** The stored instants have whole seconds on MariaDB. */
const second = (d: Date | null) => (d ? Math.floor(d.getTime() / 1000) : null);

describe('throttles in the database (sign-in lockout, request limits)', () => {
  beforeEach(resetDb);

  it('a lockout lasts its 15 minutes to the second, whatever the server time zone, and then lets the user in', async () => {
    const { sequelize } = await platform();
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    for (let i = 0; i < LOCKOUT.maxFailures; i++) await recordHit(sequelize, 'id:tz@example.org', LOCKOUT, now);
    expect(second(await lockedUntil(sequelize, ['id:tz@example.org'], now))).to.equal(second(new Date(now.getTime() + LOCKOUT.lockMs)));
    expect(await lockedUntil(sequelize, ['id:tz@example.org'], new Date(now.getTime() + LOCKOUT.lockMs - 1000))).not.to.equal(null);
    expect(await lockedUntil(sequelize, ['id:tz@example.org'], new Date(now.getTime() + LOCKOUT.lockMs + 1000))).to.equal(null);
  });

  it('a request limit counts within its window and opens again after it', async () => {
    const { sequelize } = await platform();
    const policy = { maxFailures: 2, windowMs: 10 * MIN, lockMs: 10 * MIN };
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    expect(await consume(sequelize, [['reset:a@example.org', policy]], now)).to.equal(null);
    expect(await consume(sequelize, [['reset:a@example.org', policy]], now)).to.equal(null);
    expect(second(await consume(sequelize, [['reset:a@example.org', policy]], now))).to.equal(second(new Date(now.getTime() + 10 * MIN)));
    expect(await consume(sequelize, [['reset:a@example.org', policy]], new Date(now.getTime() + 10 * MIN + 1000))).to.equal(null);
  });
});
