/** Mocha root hooks: one migrated platform for the run, closed at the end. */
import { closePlatform, platform } from './platform.js';

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
    await platform();
  },
  async afterAll() {
    await closePlatform();
  },
};
