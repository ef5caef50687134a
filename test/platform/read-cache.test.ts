/** ReadCache: answers within its time limit, forgets on clear, and never keeps a failed or overtaken load. */
import { expect } from 'chai';
import { ReadCache } from '../../server/platform/read-cache.js';

describe('platform: read cache of reference data', () => {
  it('loads once within the time limit, again after it, and at once after clear()', async () => {
    let loads = 0;
    const cache = new ReadCache<string, number>(50, async () => ++loads);
    expect(await cache.get('k')).to.equal(1);
    expect(await cache.get('k')).to.equal(1);
    cache.clear();
    expect(await cache.get('k')).to.equal(2);
    await new Promise((r) => setTimeout(r, 60));
    expect(await cache.get('k')).to.equal(3);
  });

  it('does not keep a failed load', async () => {
    let fail = true;
    const cache = new ReadCache<string, string>(10_000, async () => {
      if (fail) throw new Error('down');
      return 'up';
    });
    await cache.get('k').then(
      () => expect.fail('should fail'),
      (e: Error) => expect(e.message).to.equal('down'),
    );
    fail = false;
    expect(await cache.get('k')).to.equal('up');
  });

  it('does not serve a load that a change overtook while it ran', async () => {
    let value = 'old';
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const cache = new ReadCache<string, string>(10_000, async () => {
      const v = value; // read before the change commits
      await gate;
      return v;
    });
    const first = cache.get('k');
    value = 'new';
    cache.clear(); // the writer's change lands while the read is in flight
    release();
    expect(await first).to.equal('old');
    expect(await cache.get('k')).to.equal('new');
  });
});
