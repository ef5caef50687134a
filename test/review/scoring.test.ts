import { expect } from 'chai';
import fc from 'fast-check';
import { disagreement, missingCriteria, parseScores, summariseProposals, weightedScore, zScores, type CriterionFacts, type ReviewScore } from '../../server/review/scoring.js';

/** A call's criteria: 1–6 criteria, integer weights (at least one positive), scales 3..10. */
const criteriaArb = fc
  .array(fc.record({ weight: fc.integer({ min: 0, max: 100 }), scaleMax: fc.integer({ min: 3, max: 10 }) }), { minLength: 1, maxLength: 6 })
  .filter((cs) => cs.some((c) => c.weight > 0))
  .map((cs) => cs.map((c, i) => ({ id: i + 1, ...c })));

/** Complete scores for the criteria. */
const scoredArb = criteriaArb.chain((criteria) =>
  fc.tuple(fc.constant(criteria), fc.tuple(...criteria.map((c) => fc.integer({ min: 1, max: c.scaleMax })))).map(([cs, xs]) => ({
    criteria: cs as CriterionFacts[],
    scores: Object.fromEntries(cs.map((c, i) => [String(c.id), xs[i]!])),
  })),
);

/** Reference: the obvious formula, written differently (fractions of the total weight). */
function referenceWeighted(scores: Record<string, number>, criteria: CriterionFacts[]): number {
  const total = criteria.reduce((s, c) => s + c.weight, 0);
  let out = 0;
  for (const c of criteria) out += (c.weight / total) * (scores[String(c.id)]! / c.scaleMax) * 100;
  return out;
}

describe('review scoring (pure)', () => {
  it('weightedScore matches the reference formula and stays within (0, 100]', () => {
    fc.assert(
      fc.property(scoredArb, ({ criteria, scores }) => {
        const w = weightedScore(scores, criteria)!;
        expect(w).to.be.closeTo(referenceWeighted(scores, criteria), 1e-9);
        expect(w).to.be.greaterThan(0);
        expect(w).to.be.at.most(100 + 1e-9);
      }),
    );
  });

  it('weightedScore: full marks give 100; a missing or out-of-scale score gives null', () => {
    fc.assert(
      fc.property(criteriaArb, (criteria) => {
        const full = Object.fromEntries(criteria.map((c) => [String(c.id), c.scaleMax]));
        expect(weightedScore(full, criteria)).to.be.closeTo(100, 1e-9);
        const first = String(criteria[0]!.id);
        const { [first]: _dropped, ...partial } = full;
        void _dropped;
        expect(weightedScore(partial, criteria)).to.equal(null);
        expect(missingCriteria(partial, criteria)).to.deep.equal([criteria[0]!.id]);
        expect(weightedScore({ ...full, [first]: criteria[0]!.scaleMax + 1 }, criteria)).to.equal(null);
      }),
    );
  });

  it('weights and scales: 40/30/30 on scales 10/10/5 give the exact weighted score', () => {
    const cs = [
      { id: 1, weight: 40, scaleMax: 10 },
      { id: 2, weight: 30, scaleMax: 10 },
      { id: 3, weight: 30, scaleMax: 5 },
    ];
    expect(weightedScore({ 1: 10, 2: 5, 3: 5 }, cs)).to.be.closeTo(40 + 15 + 30, 1e-9);
    expect(weightedScore({ 1: 5, 2: 10, 3: 1 }, cs)).to.be.closeTo(20 + 30 + 6, 1e-9);
  });

  const reviewsArb = fc.array(
    fc.record({ reviewerId: fc.integer({ min: 1, max: 4 }), proposalId: fc.integer({ min: 1, max: 6 }), score: fc.integer({ min: 0, max: 100 }) }),
    { minLength: 1, maxLength: 30 },
  );

  it('zScores: per reviewer, mean 0 and (when their scores vary) population sd 1', () => {
    fc.assert(
      fc.property(reviewsArb, (reviews) => {
        const z = zScores(reviews);
        expect(z).to.have.length(reviews.length);
        for (const id of new Set(reviews.map((r) => r.reviewerId))) {
          const idx = reviews.map((r, i) => (r.reviewerId === id ? i : -1)).filter((i) => i >= 0);
          const zs = idx.map((i) => z[i]!);
          const mean = zs.reduce((a, b) => a + b, 0) / zs.length;
          expect(mean).to.be.closeTo(0, 1e-9);
          const varies = new Set(idx.map((i) => reviews[i]!.score)).size > 1;
          const sd = Math.sqrt(zs.reduce((a, b) => a + (b - mean) ** 2, 0) / zs.length);
          expect(sd).to.be.closeTo(varies ? 1 : 0, 1e-9);
        }
      }),
    );
  });

  it('zScores: a harsh and a lenient reviewer who rank alike get the same z-scores (shift and scale invariant)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 2, maxLength: 8 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: -20, max: 20 }), (xs, k, shift) => {
        const harsh: ReviewScore[] = xs.map((s, i) => ({ reviewerId: 1, proposalId: i, score: s }));
        const lenient: ReviewScore[] = xs.map((s, i) => ({ reviewerId: 2, proposalId: i, score: s * k + shift }));
        const z = zScores([...harsh, ...lenient]);
        for (let i = 0; i < xs.length; i++) expect(z[i]!).to.be.closeTo(z[i + xs.length]!, 1e-9);
      }),
    );
  });

  it('disagreement: flagged exactly when max − min exceeds the threshold', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { maxLength: 6 }), fc.double({ min: 0, max: 100, noNaN: true }), (scores, threshold) => {
        const expected = scores.length >= 2 && scores.some((a) => scores.some((b) => a - b > threshold));
        expect(disagreement(scores, threshold)).to.equal(expected);
      }),
    );
    expect(disagreement([50, 76])).to.equal(true);
    expect(disagreement([50, 75])).to.equal(false);
    expect(disagreement([90])).to.equal(false);
  });

  it('summariseProposals: one row per proposal, review counts add up, flagged when reviewers disagree', () => {
    fc.assert(
      fc.property(reviewsArb, (reviews) => {
        const rows = summariseProposals(reviews);
        expect(rows.map((r) => r.proposalId).sort()).to.deep.equal([...new Set(reviews.map((r) => r.proposalId))].sort());
        expect(rows.reduce((s, r) => s + r.reviews, 0)).to.equal(reviews.length);
        for (let i = 1; i < rows.length; i++) expect(rows[i - 1]!.meanZ).to.be.at.least(rows[i]!.meanZ);
        for (const r of rows) expect(r.disagreement).to.equal(disagreement(reviews.filter((x) => x.proposalId === r.proposalId).map((x) => x.score)));
      }),
    );
  });

  it('parseScores keeps integer scores only and survives garbage', () => {
    expect(parseScores('{"1":7,"2":"8","x":3,"3":2.5}')).to.deep.equal({ 1: 7 });
    expect(parseScores('not json')).to.deep.equal({});
    expect(parseScores('[1,2]')).to.deep.equal({});
    expect(parseScores(null)).to.deep.equal({});
  });
});
