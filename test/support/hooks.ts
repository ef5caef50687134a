/** Mocha root hooks: one migrated platform for the run, closed at the end. */
import { closePlatform, platform } from './platform.js';

// The suite runs in the time zone of the platform's servers, Asia/Shanghai, unless TZ says otherwise (CI also
// runs it once with TZ=UTC). Every instant the app stores or compares must be the same whatever the server's
// zone; run in UTC only, a date written in the server's local time passes unnoticed.
process.env.TZ ??= 'Asia/Shanghai';

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
    await platform();
  },
  async afterAll() {
    await closePlatform();
  },
};
