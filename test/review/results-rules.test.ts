import { expect } from 'chai';
import fc from 'fast-check';
import { conflictedProposals, rankProposals, reviewProgress, visibleRanking, zByReview, TALLY_KEYS, type AssignmentState, type RankedProposal, type SubmittedScore } from '../../server/review/results-rules.js';

/**
 * A call's submitted reviews: up to 8 proposals, 6 reviewers, each pair reviewed at most once. Weighted scores
 * come from integer scores on small scales, so they sit on a grid: here quarter points 0–100.
 */
const callArb = fc
  .record({
    proposals: fc.integer({ min: 1, max: 8 }),
    k: fc.integer({ min: 1, max: 4 }),
    pairs: fc.uniqueArray(fc.record({ p: fc.integer({ min: 1, max: 8 }), r: fc.integer({ min: 1, max: 6 }) }), { selector: (x) => `${x.p}:${x.r}`, maxLength: 30 }),
    scores: fc.array(fc.integer({ min: 0, max: 400 }).map((q) => q / 4), { minLength: 30, maxLength: 30 }),
    recs: fc.array(fc.constantFrom(...TALLY_KEYS, null), { minLength: 30, maxLength: 30 }),
  })
  .map(({ proposals, k, pairs, scores, recs }) => {
    const ids = Array.from({ length: proposals }, (_, i) => i + 1);
    const reviews: SubmittedScore[] = pairs
      .filter((x) => x.p <= proposals)
      .map((x, i) => ({ reviewId: 100 + i, proposalId: x.p, reviewerId: x.r, score: scores[i]!, recommendation: recs[i]! }));
    return { ids, k, reviews };
  });

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Reference, written plainly: the per-proposal figures the ranking must show. */
function reference(ids: number[], reviews: SubmittedScore[], k: number) {
  return ids.map((id) => {
    const mine = reviews.filter((r) => r.proposalId === id);
    const scores = mine.map((r) => r.score);
    const spread = scores.length ? Math.max(...scores) - Math.min(...scores) : null;
    return {
      proposalId: id,
      reviews: mine.length,
      incomplete: mine.length < k,
      meanScore: scores.length ? mean(scores) : null,
      spread,
      disagreement: scores.length >= 2 && spread! > 25,
      tally: Object.fromEntries(TALLY_KEYS.map((t) => [t, mine.filter((r) => r.recommendation === t).length])),
    };
  });
}

/** a strictly before b in the z order (meanZ desc, then meanScore desc; unreviewed last), beyond float noise. */
function better(a: RankedProposal, b: RankedProposal): boolean {
  if (a.incomplete !== b.incomplete) return !a.incomplete;
  if (a.meanZ === null) return false;
  if (b.meanZ === null) return true;
  if (Math.abs(a.meanZ - b.meanZ) > 1e-9) return a.meanZ > b.meanZ;
  return a.meanScore! - b.meanScore! > 1e-9;
}

describe('review results: joint ranking (pure)', () => {
  it("each reviewer's z-scores have mean 0 and population sd 1, or are all 0 when the reviewer's scores are constant", () => {
    fc.assert(
      fc.property(callArb, ({ reviews }) => {
        const z = zByReview(reviews);
        for (const reviewer of new Set(reviews.map((r) => r.reviewerId))) {
          const mine = reviews.filter((r) => r.reviewerId === reviewer);
          const zs = mine.map((r) => z.get(r.reviewId)!);
          const m = mean(mine.map((r) => r.score));
          const constant = mine.every((r) => Math.abs(r.score - m) < 1e-9);
          if (constant) expect(zs.every((x) => x === 0)).to.equal(true);
          else {
            expect(mean(zs)).to.be.closeTo(0, 1e-6);
            expect(Math.sqrt(mean(zs.map((x) => x * x)))).to.be.closeTo(1, 1e-6);
          }
        }
      }),
    );
  });

  it('matches a plain reference per proposal: review count, incomplete below k, mean score, spread, flag, tally', () => {
    fc.assert(
      fc.property(callArb, ({ ids, k, reviews }) => {
        const rows = rankProposals({ proposalIds: ids, reviews, k });
        expect(rows.map((r) => r.proposalId).sort((a, b) => a - b)).to.deep.equal(ids);
        for (const want of reference(ids, reviews, k)) {
          const got = rows.find((r) => r.proposalId === want.proposalId)!;
          expect(got.reviews).to.equal(want.reviews);
          expect(got.incomplete).to.equal(want.incomplete);
          expect(got.disagreement).to.equal(want.disagreement);
          expect(got.tally).to.deep.equal(want.tally);
          if (want.meanScore === null) expect([got.meanScore, got.meanZ, got.spread]).to.deep.equal([null, null, null]);
          else {
            expect(got.meanScore).to.be.closeTo(want.meanScore, 1e-9);
            expect(got.spread).to.be.closeTo(want.spread!, 1e-9);
          }
        }
      }),
    );
  });

  it('ranks proposals with all k reviews first, then by mean z (ties broken by mean score), competition-style: rank = 1 + the number of rows strictly better', () => {
    fc.assert(
      fc.property(callArb, ({ ids, k, reviews }) => {
        const rows = rankProposals({ proposalIds: ids, reviews, k });
        rows.forEach((r, i) => {
          expect(r.rank).to.equal(1 + rows.filter((o) => better(o, r)).length);
          if (i > 0) expect(better(r, rows[i - 1]!), 'never better than the row above').to.equal(false);
        });
      }),
    );
  });

  it('sorting by mean score orders by the raw mean, complete proposals first, unreviewed proposals last', () => {
    fc.assert(
      fc.property(callArb, ({ ids, k, reviews }) => {
        const rows = rankProposals({ proposalIds: ids, reviews, k, sort: 'score' });
        const complete = rows.filter((r) => !r.incomplete);
        expect(rows.slice(0, complete.length)).to.deep.equal(complete);
        const rest = rows.slice(complete.length);
        const scored = rest.filter((r) => r.meanScore !== null);
        expect(rest.slice(0, scored.length)).to.deep.equal(scored);
        for (const group of [complete, scored]) {
          for (let i = 1; i < group.length; i++) expect(group[i]!.meanScore! <= group[i - 1]!.meanScore! + 1e-9).to.equal(true);
        }
      }),
    );
  });

  it('a harsh and a lenient expert count the same: per-reviewer affine shifts (a·s + b, a > 0) leave every mean z and the z order unchanged', () => {
    const shiftArb = fc.array(fc.record({ a: fc.double({ min: 0.2, max: 5, noNaN: true }), b: fc.double({ min: -40, max: 40, noNaN: true }) }), { minLength: 6, maxLength: 6 });
    fc.assert(
      fc.property(callArb, shiftArb, ({ ids, k, reviews }, shifts) => {
        const shifted = reviews.map((r) => ({ ...r, score: shifts[r.reviewerId - 1]!.a * r.score + shifts[r.reviewerId - 1]!.b }));
        const before = rankProposals({ proposalIds: ids, reviews, k });
        const after = new Map(rankProposals({ proposalIds: ids, reviews: shifted, k }).map((r, i) => [r.proposalId, { ...r, at: i }]));
        const at = new Map(before.map((r, i) => [r.proposalId, i]));
        for (const r of before) {
          const s = after.get(r.proposalId)!;
          if (r.meanZ === null) expect(s.meanZ).to.equal(null);
          else expect(s.meanZ).to.be.closeTo(r.meanZ, 1e-6);
        }
        for (const x of before) {
          for (const y of before) {
            if (x.incomplete !== y.incomplete || x.meanZ === null || y.meanZ === null || x.meanZ - y.meanZ <= 1e-6) continue;
            expect(at.get(x.proposalId)! < at.get(y.proposalId)!).to.equal(true);
            expect(after.get(x.proposalId)!.at < after.get(y.proposalId)!.at).to.equal(true);
          }
        }
      }),
    );
  });

  it("a conflicted viewer's ranking drops the hidden proposals and counts ranks again, keeping the order of the rest", () => {
    fc.assert(
      fc.property(callArb, fc.uniqueArray(fc.integer({ min: 1, max: 8 }), { maxLength: 4 }), ({ ids, k, reviews }, hide) => {
        const all = rankProposals({ proposalIds: ids, reviews, k });
        const hidden = new Set(hide);
        const seen = visibleRanking(all, hidden);
        expect(seen.map((r) => r.proposalId)).to.deep.equal(all.filter((r) => !hidden.has(r.proposalId)).map((r) => r.proposalId));
        seen.forEach((r) => expect(r.rank).to.equal(1 + seen.filter((o) => better(o, r)).length));
      }),
    );
  });

  it('flags disagreement above 25 points and only then; a single review is never a disagreement', () => {
    const rows = rankProposals({
      proposalIds: [1, 2, 3],
      k: 2,
      reviews: [
        { reviewId: 1, reviewerId: 1, proposalId: 1, score: 90, recommendation: 'fund' },
        { reviewId: 2, reviewerId: 2, proposalId: 1, score: 60, recommendation: 'reject' },
        { reviewId: 3, reviewerId: 1, proposalId: 2, score: 80, recommendation: 'fund' },
        { reviewId: 4, reviewerId: 2, proposalId: 2, score: 55, recommendation: 'fund_with_changes' },
        { reviewId: 5, reviewerId: 3, proposalId: 3, score: 10, recommendation: null },
      ],
    });
    const by = new Map(rows.map((r) => [r.proposalId, r]));
    expect(by.get(1)!.disagreement).to.equal(true);
    expect(by.get(2)!.disagreement, 'exactly 25 apart').to.equal(false);
    expect(by.get(3)!.disagreement).to.equal(false);
    expect(by.get(3)!.incomplete).to.equal(true);
    expect(by.get(1)!.tally).to.deep.equal({ fund: 1, fund_with_changes: 0, reject: 1 });
  });

  it('progress: per expert and in total, accepted = submitted + outstanding; drafts are outstanding', () => {
    const stateArb = fc.array(
      fc.record({ expertUserId: fc.integer({ min: 1, max: 5 }), proposalId: fc.integer({ min: 1, max: 9 }), status: fc.constantFrom('proposed', 'invited', 'accepted', 'declined'), review: fc.constantFrom('none', 'draft', 'submitted') }),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(stateArb, (rows: AssignmentState[]) => {
        const { total, perExpert } = reviewProgress(rows);
        expect(total.accepted).to.equal(total.submitted + total.outstanding);
        expect(total.submitted).to.equal(rows.filter((r) => r.status === 'accepted' && r.review === 'submitted').length);
        expect(total.drafts).to.equal(rows.filter((r) => r.status === 'accepted' && r.review === 'draft').length);
        expect(total.invited).to.equal(rows.filter((r) => r.status === 'invited').length);
        const sum = [...perExpert.values()].reduce((a, c) => a + c.submitted, 0);
        expect(sum).to.equal(total.submitted);
      }),
    );
  });
});

describe('review results: a viewer’s conflicts (pure)', () => {
  const ties = [
    { proposalId: 1, piUserId: 10, contactUserIds: [11], institutionIds: [100, 101], expertUserIds: [20] },
    { proposalId: 2, piUserId: 12, contactUserIds: [13], institutionIds: [102], expertUserIds: [21] },
  ];
  it('the PI, a partner’s contact, a colleague of a consortium institution and an assigned expert are conflicted; others are not', () => {
    expect([...conflictedProposals({ id: 10, institutionId: null }, ties)]).to.deep.equal([1]);
    expect([...conflictedProposals({ id: 11, institutionId: null }, ties)]).to.deep.equal([1]);
    expect([...conflictedProposals({ id: 99, institutionId: 101 }, ties)]).to.deep.equal([1]);
    expect([...conflictedProposals({ id: 21, institutionId: null }, ties)]).to.deep.equal([2]);
    expect([...conflictedProposals({ id: 99, institutionId: 555 }, ties)]).to.deep.equal([]);
  });
});
