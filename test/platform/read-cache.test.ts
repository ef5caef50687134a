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

  it('reloads an entry read past half its time in the background, serving it meanwhile, never past its time', async () => {
    const settle = () => new Promise((r) => setImmediate(r));
    let now = 0;
    let loads = 0;
    let gate: Promise<void> = Promise.resolve();
    const cache = new ReadCache<string, number>(
      200,
      async () => {
        const n = ++loads;
        await gate;
        return n;
      },
      1000,
      () => now,
    );
    expect(await cache.get('k')).to.equal(1);
    now = 120;
    let release!: () => void;
    gate = new Promise<void>((r) => (release = r));
    expect(await cache.get('k'), 'served at once while a reload runs').to.equal(1);
    expect(await cache.get('k')).to.equal(1);
    expect(loads, 'one reload at a time').to.equal(2);
    release();
    await settle();
    expect(await cache.get('k'), 'the reloaded value').to.equal(2);
    expect(loads).to.equal(2);

    // A reload that outlives the entry's time: the next read waits for a fresh load instead of the old value.
    now = 240; // the entry from the reload started at 120
    gate = new Promise<void>((r) => (release = r));
    expect(await cache.get('k')).to.equal(2);
    now = 320;
    const late = cache.get('k');
    release();
    expect(await late).to.equal(4);
    await settle();
    expect(await cache.get('k'), 'the overtaken reload is not kept').to.equal(4);

    // A change while a reload runs: the reload is not kept.
    now = 430;
    gate = new Promise<void>((r) => (release = r));
    expect(await cache.get('k')).to.equal(4);
    cache.clear();
    release();
    await settle();
    expect(await cache.get('k'), 'loaded again after the change').to.equal(6);
  });
});
