import { expect } from 'chai';
import fc from 'fast-check';
import { concerns, effectiveEnd, endAfterLastDay, isActive, lastDayOf, periodFrom, sanctionsAgainst, sanctionState, shanghaiDay, shanghaiDayStart, type SanctionSubject } from '../../server/integrity/rules.js';

const T0 = Date.UTC(2026, 0, 1);
const instant = fc.integer({ min: 0, max: 400 * 86_400_000 }).map((ms) => new Date(T0 + ms));

const period = fc
  .record({ start: instant, end: fc.option(instant, { nil: null }), lift: fc.option(instant, { nil: null }) })
  .filter((p) => p.end === null || p.end.getTime() > p.start.getTime())
  .map((p) => ({ startsAt: p.start, endsAt: p.end, liftedAt: p.lift }));

describe('integrity rules: when a sanction is in force', () => {
  it('is in force from the start (inclusive) to the end (exclusive)', () => {
    const s = { startsAt: new Date('2026-03-01T00:00:00Z'), endsAt: new Date('2026-04-01T00:00:00Z') };
    expect(isActive(s, new Date('2026-02-28T23:59:59.999Z'))).to.equal(false);
    expect(isActive(s, new Date('2026-03-01T00:00:00Z'))).to.equal(true);
    expect(isActive(s, new Date('2026-03-31T23:59:59.999Z'))).to.equal(true);
    expect(isActive(s, new Date('2026-04-01T00:00:00Z'))).to.equal(false);
  });

  it('has no end without an end date, and ends when lifted', () => {
    const open = { startsAt: new Date(T0), endsAt: null };
    expect(isActive(open, new Date(T0 + 50 * 365 * 86_400_000))).to.equal(true);
    const lifted = { ...open, liftedAt: new Date(T0 + 1000) };
    expect(isActive(lifted, new Date(T0 + 999))).to.equal(true);
    expect(isActive(lifted, new Date(T0 + 1000))).to.equal(false);
  });

  it('property: in force exactly when start ≤ at < min(end, lift)', () => {
    fc.assert(
      fc.property(period, instant, (s, at) => {
        const end = Math.min(s.endsAt?.getTime() ?? Infinity, s.liftedAt?.getTime() ?? Infinity);
        const expected = s.startsAt.getTime() <= at.getTime() && at.getTime() < end;
        expect(isActive(s, at)).to.equal(expected);
        expect(sanctionState(s, at) === 'active').to.equal(expected);
        const e = effectiveEnd(s);
        expect(e === null ? Infinity : e.getTime()).to.equal(end);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: once over (expired or lifted) a sanction never comes back', () => {
    fc.assert(
      fc.property(period, instant, fc.integer({ min: 1, max: 10 ** 9 }), (s, at, later) => {
        const state = sanctionState(s, at);
        if (state === 'ended' || state === 'lifted') expect(isActive(s, new Date(at.getTime() + later))).to.equal(false);
      }),
    );
  });
});

describe('integrity rules: days typed in forms (Asia/Shanghai)', () => {
  it('starts at 00:00 Beijing time on the first day and ends at 24:00 on the last day', () => {
    expect(shanghaiDayStart('2026-12-01')!.toISOString()).to.equal('2026-11-30T16:00:00.000Z');
    expect(endAfterLastDay('2026-12-31')!.toISOString()).to.equal('2026-12-31T16:00:00.000Z');
    expect(lastDayOf(endAfterLastDay('2026-12-31')!)).to.equal('2026-12-31');
    expect(shanghaiDay(new Date('2026-11-30T16:00:00Z'))).to.equal('2026-12-01');
  });

  it('refuses impossible dates and a last day before the first, and accepts a one-day sanction', () => {
    expect(periodFrom({ startDay: '2026-02-30', lastDay: '' })).to.deep.include({ ok: false });
    expect(periodFrom({ startDay: '2026-03-02', lastDay: '2026-03-01' })).to.deep.equal({ ok: false, problem: { field: 'lastDay', key: 'integrity:errors.lastBeforeStart' } });
    const one = periodFrom({ startDay: '2026-03-01', lastDay: '2026-03-01' });
    expect(one.ok && one.endsAt!.getTime() - one.startsAt.getTime()).to.equal(86_400_000);
    const open = periodFrom({ startDay: '2026-03-01', lastDay: '' });
    expect(open.ok && open.endsAt).to.equal(null);
  });

  it('property: the typed last day round-trips', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2000-01-01'), max: new Date('2090-12-31'), noInvalidDate: true }), (d) => {
        const day = d.toISOString().slice(0, 10);
        expect(lastDayOf(endAfterLastDay(day)!)).to.equal(day);
        expect(shanghaiDay(shanghaiDayStart(day)!)).to.equal(day);
      }),
    );
  });
});

describe('integrity rules: who a sanction concerns', () => {
  const base = { startsAt: new Date(T0), endsAt: null, liftedAt: null };
  const person: SanctionSubject = { ...base, id: 1, subjectType: 'person', subjectUserId: 7, subjectInstitutionId: null, subjectCreditCode: null };
  const inst: SanctionSubject = { ...base, id: 2, subjectType: 'institution', subjectUserId: null, subjectInstitutionId: null, subjectCreditCode: '91310000MA1FL4XQ3B' };

  it('matches a person by user id and an institution by credit code (any case) or registry id', () => {
    expect(concerns(person, { userIds: [7] })).to.equal(true);
    expect(concerns(person, { userIds: [8], institutionIds: [7] })).to.equal(false);
    expect(concerns(inst, { userIds: [], creditCodes: ['91310000ma1fl4xq3b'] })).to.equal(true);
    expect(concerns({ ...inst, subjectInstitutionId: 5 }, { userIds: [], institutionIds: [5] })).to.equal(true);
    expect(concerns(inst, { userIds: [], institutionIds: [5] })).to.equal(false);
  });

  it('keeps only the sanctions in force at the instant', () => {
    const later = { ...person, id: 3, startsAt: new Date(T0 + 10_000) };
    expect(sanctionsAgainst([person, later], { userIds: [7] }, new Date(T0 + 5000)).map((s) => s.id)).to.deep.equal([1]);
  });
});
