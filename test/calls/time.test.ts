import { expect } from 'chai';
import fc from 'fast-check';
import { parseShanghaiLocal, timeLeft, toShanghaiLocal } from '../../server/platform/time.js';
import { CALL_STATUSES, submissionWindow } from '../../server/calls/rules.js';
import { countdownText } from '../../server/calls/presenters.js';

describe('Asia/Shanghai datetime-local helpers', () => {
  it('reads "2026-12-01T17:00" as Beijing time: 09:00Z, and writes it back', () => {
    const d = parseShanghaiLocal('2026-12-01T17:00')!;
    expect(d.toISOString()).to.equal('2026-12-01T09:00:00.000Z');
    expect(toShanghaiLocal(d)).to.equal('2026-12-01T17:00');
    expect(parseShanghaiLocal('2026-01-01T03:30:15')!.toISOString()).to.equal('2025-12-31T19:30:15.000Z');
    expect(toShanghaiLocal(new Date('2025-12-31T19:30:15Z'))).to.equal('2026-01-01T03:30:15');
  });

  it('refuses what is not a real date and time', () => {
    for (const bad of ['', '2026-02-30T10:00', '2026-13-01T10:00', '2026-04-31T00:00', '2026-01-01T24:00', '2026-01-01 10:00', '2026-1-1T10:00', 'tomorrow', '2026-01-01T10:00Z', '2026-01-01T10:00+08:00'])
      expect(parseShanghaiLocal(bad), bad).to.equal(null);
    expect(parseShanghaiLocal('2028-02-29T23:59')).to.not.equal(null); // leap day
  });

  it('round-trips any instant to the second, whatever the server time zone (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1971, 0, 1) / 1000, max: Date.UTC(9998, 11, 31) / 1000 }), (seconds) => {
        const d = new Date(seconds * 1000);
        return parseShanghaiLocal(toShanghaiLocal(d))!.getTime() === d.getTime();
      }),
    );
  });

  it('splits the time left into days, hours and minutes', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(timeLeft(new Date('2026-01-03T05:07:59Z'), now)).to.include({ days: 2, hours: 5, minutes: 7 });
    expect(timeLeft(new Date('2025-12-31T00:00:00Z'), now)).to.include({ days: 0, hours: 0, minutes: 0, totalMs: 0 });
  });
});

describe('submission window', () => {
  it('is open iff published, opened, and floor(now) ≤ floor(deadline) to the second (property)', () => {
    const t = fc.integer({ min: 1_700_000_000_000, max: 1_700_000_100_000 });
    fc.assert(
      fc.property(fc.constantFrom(...CALL_STATUSES), t, fc.option(t), fc.option(t), (status, now, deadline, opens) => {
        const state = submissionWindow({ status, deadlineAt: deadline === null ? null : new Date(deadline), opensAt: opens === null ? null : new Date(opens) }, new Date(now));
        const expected =
          status === 'published' && deadline !== null && (opens === null || now >= opens) && Math.floor(now / 1000) <= Math.floor(deadline / 1000);
        return (state === 'open') === expected;
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts the deadline second itself and refuses the next one', () => {
    const deadline = new Date('2026-12-01T09:00:00.000Z');
    const c = { status: 'published' as const, opensAt: null, deadlineAt: deadline };
    expect(submissionWindow(c, new Date('2026-12-01T08:59:59.000Z'))).to.equal('open');
    expect(submissionWindow(c, new Date('2026-12-01T09:00:00.999Z'))).to.equal('open');
    expect(submissionWindow(c, new Date('2026-12-01T09:00:01.000Z'))).to.equal('closed');
  });

  it('words the countdown in both languages', () => {
    const c = { status: 'published' as const, opensAt: null, deadlineAt: new Date('2026-12-03T12:30:00Z') };
    const now = new Date('2026-12-01T09:00:00Z');
    expect(countdownText(c, now, 'zh-CN')).to.equal('距截止还有 2 天 3 小时');
    expect(countdownText(c, now, 'en')).to.equal('2 d 3 h left');
    expect(countdownText(c, new Date('2026-12-03T11:00:00Z'), 'zh-CN')).to.equal('距截止还有 1 小时 30 分钟');
    expect(countdownText(c, new Date('2026-12-03T12:30:01Z'), 'zh-CN')).to.equal('已截止');
    expect(countdownText({ ...c, status: 'draft' }, now, 'en')).to.equal('Not published');
  });
});
