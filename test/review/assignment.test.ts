import { expect } from 'chai';
import fc from 'fast-check';
import { assignReviewers, proposeReplacement, type AssignmentInput, type ExpertSlot, type ProposalSlot } from '../../server/review/assignment.js';
import { MinCostFlow } from '../../server/review/mcf.js';
import { breach, bruteForce, expectedReasons, instanceArb, maxFillable, objective, pairsOf, toInput, validPins } from './assignment-oracle.js';

/** A small named instance: affinities given per (expert, proposal) id, 0 when absent. */
function named(o: {
  proposals: ProposalSlot[];
  experts: ExpertSlot[];
  aff?: Record<string, number>;
  conflicts?: [string, string][];
  pins?: [string, string][];
  forbids?: [string, string][];
}): AssignmentInput {
  const ref = ([expertId, proposalId]: [string, string]) => ({ expertId, proposalId });
  return {
    proposals: o.proposals,
    experts: o.experts,
    affinity: { score: (e, p) => o.aff?.[`${o.experts[e]!.id}|${o.proposals[p]!.id}`] ?? 0 },
    conflicts: (o.conflicts ?? []).map(ref),
    pins: (o.pins ?? []).map(ref),
    forbids: (o.forbids ?? []).map(ref),
  };
}

const reviewersOf = (r: ReturnType<typeof assignReviewers>, proposalId: string) =>
  r.assignments
    .filter((a) => a.proposalId === proposalId)
    .map((a) => a.expertId)
    .sort();

describe('review: reviewer assignment (min-cost flow)', function () {
  this.timeout(120_000);

  describe('properties on random instances', () => {
    it('breaks no rule: no conflicted or forbidden pair, pins honoured, loads, k and province caps respected', () => {
      fc.assert(
        fc.property(instanceArb({ maxP: 8, maxE: 12, maxK: 4, pins: 4 }), (inst) => {
          const r = assignReviewers(toInput(inst), { loadSpread: inst.spread });
          expect(breach(inst, r)).to.equal(null);
          const rejected = r.pinIssues.filter((i) => !i.honoured).length;
          expect(validPins(inst).size + rejected).to.be.at.least(new Set(inst.pins.map(([e, p]) => `${e}|${p}`)).size);
        }),
        { numRuns: 400 },
      );
    });

    it('on tiny instances (≤ 4 proposals, ≤ 6 experts, k ≤ 2) reaches the brute-force optimum: slots, outside reviewers, then affinity less load spread', () => {
      // The objective is lexicographic, so it is compared as a triple; with loadSpread 0 its third part is the plain
      // total affinity (scaled to integers: affinities here are multiples of 0.05, so scaling loses nothing).
      fc.assert(
        fc.property(instanceArb({ maxP: 4, maxE: 6, maxK: 2, pins: 2 }), (inst) => {
          const r = assignReviewers(toInput(inst), { loadSpread: inst.spread });
          expect(r.stats.exact).to.equal(true);
          expect(objective(inst, pairsOf(r))).to.deep.equal(bruteForce(inst));
          if (inst.spread === 0) expect(r.totalAffinity).to.be.closeTo(bruteForce(inst)[2] / 1000, 1e-9);
        }),
        { numRuns: 300 },
      );
    });

    it('fills every slot that an independent max-flow says can be filled (so every proposal gets k when feasible)', () => {
      fc.assert(
        fc.property(instanceArb({ maxP: 12, maxE: 25, maxK: 5 }), (inst) => {
          const r = assignReviewers(toInput(inst), { loadSpread: inst.spread, candidates: 2, outsideCandidates: 1 });
          const fillable = maxFillable(inst);
          expect(r.assignments.length).to.equal(fillable);
          const total = inst.proposals.reduce((a, p) => a + p.k, 0);
          if (fillable === total) expect(r.shortfalls.filter((s) => s.assigned < s.needed)).to.deep.equal([]);
        }),
        { numRuns: 200 },
      );
    });

    it('pruned candidate lists (2 per proposal) end at the same optimum as full lists, proven by pricing', () => {
      fc.assert(
        fc.property(instanceArb({ maxP: 15, maxE: 30, maxK: 5, maxLoad: 4, pins: 3 }), (inst) => {
          const pruned = assignReviewers(toInput(inst), { loadSpread: inst.spread, candidates: 2, outsideCandidates: 1 });
          const full = assignReviewers(toInput(inst), { loadSpread: inst.spread, candidates: 1000 });
          expect(pruned.stats.exact).to.equal(true);
          expect(objective(inst, pairsOf(pruned))).to.deep.equal(objective(inst, pairsOf(full)));
        }),
        { numRuns: 200 },
      );
    });

    it('reports every proposal short of k or of an outside reviewer, with the reasons its instance implies', () => {
      fc.assert(
        fc.property(instanceArb({ maxP: 8, maxE: 12, maxK: 4, pins: 3 }), (inst) => {
          const r = assignReviewers(toInput(inst), { loadSpread: inst.spread, candidates: 3 });
          const expected = expectedReasons(inst, r);
          const got = new Map(r.shortfalls.map((s) => [String(s.proposalId), s.reasons.map((x) => x.code as string)]));
          expect(got).to.deep.equal(expected);
          for (const s of r.shortfalls) expect(s.reasons).to.not.be.empty;
        }),
        { numRuns: 400 },
      );
    });

    it('is deterministic', () => {
      fc.assert(
        fc.property(instanceArb({ maxP: 8, maxE: 12, maxK: 4 }), (inst) => {
          expect(assignReviewers(toInput(inst)).assignments).to.deep.equal(assignReviewers(toInput(inst)).assignments);
        }),
        { numRuns: 50 },
      );
    });
  });

  describe('what an officer sees', () => {
    const P = (id: string, k: number, provinces: string[]): ProposalSlot => ({ id, k, provinces });
    const X = (id: string, province: string, load = 3): ExpertSlot => ({ id, province, load });

    it('gives each proposal its best experts, at most ⌈k/2⌉ from one province and one from outside the consortium', () => {
      const input = named({
        proposals: [P('p1', 3, ['SH', 'JS'])],
        experts: [X('sh1', 'SH'), X('sh2', 'SH'), X('sh3', 'SH'), X('js1', 'JS'), X('zj1', 'ZJ')],
        aff: { 'sh1|p1': 0.9, 'sh2|p1': 0.85, 'sh3|p1': 0.8, 'js1|p1': 0.6, 'zj1|p1': 0.1 },
      });
      const r = assignReviewers(input);
      // sh3 is better than js1 and zj1, but SH may give only 2 of 3, and ZJ is the only province outside.
      expect(reviewersOf(r, 'p1')).to.deep.equal(['sh1', 'sh2', 'zj1']);
      expect(r.shortfalls).to.deep.equal([]);
      expect(r.totalAffinity).to.be.closeTo(1.85, 1e-9);
    });

    it('never assigns a conflicted or forbidden pair, even when it is the best match', () => {
      const input = named({
        proposals: [P('p1', 1, ['SH'])],
        experts: [X('a', 'JS'), X('b', 'JS'), X('c', 'ZJ')],
        aff: { 'a|p1': 0.9, 'b|p1': 0.8, 'c|p1': 0.1 },
        conflicts: [['a', 'p1']],
        forbids: [['b', 'p1']],
      });
      expect(reviewersOf(assignReviewers(input), 'p1')).to.deep.equal(['c']);
    });

    it('spreads load: a busier expert gives way to a nearly as good fresh one, unless loadSpread is 0', () => {
      const input = named({
        proposals: [P('p1', 1, ['SH']), P('p2', 1, ['SH'])],
        experts: [X('star', 'JS', 2), X('fresh', 'ZJ', 2)],
        aff: { 'star|p1': 0.9, 'star|p2': 0.9, 'fresh|p1': 0.88, 'fresh|p2': 0.88 },
      });
      const spread = assignReviewers(input);
      expect(spread.loads.map((l) => l.assigned)).to.deep.equal([1, 1]);
      const greedy = assignReviewers(input, { loadSpread: 0 });
      expect(greedy.loads.map((l) => l.assigned)).to.deep.equal([2, 0]);
    });

    it('explains a shortfall: too few non-conflicted experts', () => {
      const input = named({
        proposals: [P('p1', 3, ['SH'])],
        experts: [X('a', 'JS'), X('b', 'ZJ'), X('c', 'AH'), X('d', 'AH')],
        conflicts: [['c', 'p1'], ['d', 'p1']],
      });
      const r = assignReviewers(input);
      expect(r.shortfalls).to.deep.equal([
        { proposalId: 'p1', assigned: 2, needed: 3, outside: true, reasons: [{ code: 'pool_too_small', params: { eligible: 2, needed: 3, excluded: 2 } }] },
      ]);
    });

    it('explains a shortfall: the province cap leaves too few', () => {
      const input = named({
        proposals: [P('p1', 4, ['SH'])],
        experts: [X('a', 'JS'), X('b', 'JS'), X('c', 'JS'), X('d', 'ZJ')],
      });
      const r = assignReviewers(input);
      expect(r.shortfalls[0]!.reasons).to.deep.equal([{ code: 'province_cap', params: { usable: 3, needed: 4, cap: 2, byProvince: { JS: 3, ZJ: 1 } } }]);
      expect(r.shortfalls[0]!.assigned).to.equal(3);
    });

    it('explains a shortfall: experts taken by other proposals up to their load', () => {
      const input = named({
        proposals: [P('p1', 2, ['SH']), P('p2', 2, ['SH'])],
        experts: [X('a', 'JS', 1), X('b', 'ZJ', 1), X('c', 'AH', 1)],
        aff: { 'a|p1': 0.9, 'b|p1': 0.9, 'c|p1': 0.9, 'a|p2': 0.1, 'b|p2': 0.1, 'c|p2': 0.1 },
      });
      const r = assignReviewers(input);
      expect(r.assignments).to.have.length(3);
      const short = r.shortfalls.find((s) => s.assigned < s.needed)!;
      expect(short.reasons).to.deep.equal([{ code: 'load_exhausted', params: { eligible: 3, withSpareLoad: 0, needed: 2 } }]);
    });

    it('explains a missing outside reviewer: every expert is from the consortium provinces', () => {
      const input = named({
        proposals: [P('p1', 2, ['SH', 'JS'])],
        experts: [X('a', 'SH'), X('b', 'JS'), X('c', 'ZJ')],
        conflicts: [['c', 'p1']],
      });
      const r = assignReviewers(input);
      expect(reviewersOf(r, 'p1')).to.deep.equal(['a', 'b']);
      expect(r.shortfalls).to.deep.equal([
        { proposalId: 'p1', assigned: 2, needed: 2, outside: false, reasons: [{ code: 'no_outside_expert', params: { consortium: ['JS', 'SH'], outsideInPool: 1, excluded: 1 } }] },
      ]);
    });

    it('puts the outside rule before affinity: both proposals get an outside reviewer rather than their best match', () => {
      const input = named({
        proposals: [P('p1', 1, ['SH']), P('p2', 1, ['SH', 'JS'])],
        experts: [X('js', 'JS', 1), X('zj', 'ZJ', 1)],
        aff: { 'zj|p1': 0.9, 'js|p1': 0.1, 'zj|p2': 0.1, 'js|p2': 0.9 },
      });
      // Best affinity (p1 ← zj, p2 ← js) would leave p2 with a reviewer from its own consortium.
      const r = assignReviewers(input);
      expect(reviewersOf(r, 'p1')).to.deep.equal(['js']);
      expect(reviewersOf(r, 'p2')).to.deep.equal(['zj']);
      expect(r.stats.withOutside).to.equal(2);
      expect(assignReviewers(input, { requireOutside: false }).totalAffinity).to.be.closeTo(1.8, 1e-9);
    });

    it('honours pins (counted against load and caps) and refuses a pinned conflict', () => {
      const input = named({
        proposals: [P('p1', 2, ['SH']), P('p2', 1, ['SH'])],
        experts: [X('a', 'JS', 1), X('b', 'ZJ', 2), X('c', 'AH', 1)],
        aff: { 'a|p1': 0.9, 'a|p2': 0.9, 'b|p1': 0.1, 'b|p2': 0.2, 'c|p1': 0.5, 'c|p2': 0.8 },
        pins: [['b', 'p1'], ['c', 'p1']],
        conflicts: [['c', 'p1']],
      });
      const r = assignReviewers(input);
      expect(r.pinIssues).to.deep.equal([{ expertId: 'c', proposalId: 'p1', code: 'conflict', honoured: false }]);
      expect(r.assignments.find((a) => a.expertId === 'b' && a.proposalId === 'p1')?.pinned).to.equal(true);
      expect(reviewersOf(r, 'p1')).to.deep.equal(['a', 'b']);
      expect(reviewersOf(r, 'p2')).to.deep.equal(['c']); // a's single unit of load went to p1
    });

    it('proposes a replacement for a decline without moving anyone else', () => {
      const input = named({
        proposals: [P('p1', 2, ['SH']), P('p2', 2, ['SH'])],
        experts: [X('a', 'JS', 2), X('b', 'ZJ', 2), X('c', 'AH', 1), X('d', 'JS', 1)],
        aff: { 'a|p1': 0.9, 'b|p1': 0.8, 'c|p1': 0.7, 'd|p1': 0.6, 'a|p2': 0.9, 'b|p2': 0.8, 'c|p2': 0.75, 'd|p2': 0.2 },
      });
      const first = assignReviewers(input);
      const current = first.assignments.map(({ expertId, proposalId }) => ({ expertId, proposalId }));
      expect(reviewersOf(first, 'p1')).to.deep.equal(['a', 'b']);
      const r = proposeReplacement(input, current, { expertId: 'a', proposalId: 'p1' });
      expect(r.replacements.map((a) => a.expertId)).to.deep.equal(['c']);
      expect(r.shortfall).to.equal(null);
      for (const a of current.filter((x) => !(x.expertId === 'a' && x.proposalId === 'p1')))
        expect(r.result.assignments.some((b) => b.expertId === a.expertId && b.proposalId === a.proposalId)).to.equal(true);
      // c declines too: d (JS; p1 already has b from ZJ) is next.
      const after = [...current.filter((x) => !(x.expertId === 'a' && x.proposalId === 'p1')), { expertId: 'c', proposalId: 'p1' }];
      const second = proposeReplacement({ ...input, forbids: [{ expertId: 'a', proposalId: 'p1' }] }, after, { expertId: 'c', proposalId: 'p1' });
      expect(second.replacements.map((a) => a.expertId)).to.deep.equal(['d']);
      // d declines as well: nobody is left, and the officer is told why.
      const after2 = [...after.filter((x) => x.expertId !== 'c'), { expertId: 'd', proposalId: 'p1' }];
      const declined = [{ expertId: 'a', proposalId: 'p1' }, { expertId: 'c', proposalId: 'p1' }];
      const third = proposeReplacement({ ...input, forbids: declined }, after2, { expertId: 'd', proposalId: 'p1' });
      expect(third.replacements).to.deep.equal([]);
      expect(third.shortfall).to.deep.equal({
        proposalId: 'p1',
        assigned: 1,
        needed: 2,
        outside: true,
        reasons: [{ code: 'pool_too_small', params: { eligible: 1, needed: 2, excluded: 3 } }],
      });
    });
  });

  describe('the flow solver', () => {
    it('finds a minimum-cost flow on a textbook network', () => {
      // s→a (2, cost 1), s→b (1, cost 2), a→b (1, cost 1), a→t (1, cost 3), b→t (2, cost 1): 3 units cost 1+1+1 + 2+1 + 1+3 = 10.
      const f = new MinCostFlow();
      const [s, a, b, t] = [f.addNode(), f.addNode(), f.addNode(), f.addNode()];
      const arcs = [f.addArc(s, a, 2, 1), f.addArc(s, b, 1, 2), f.addArc(a, b, 1, 1), f.addArc(a, t, 1, 3), f.addArc(b, t, 2, 1)];
      expect(f.send(s, t, 5)).to.equal(3);
      expect(f.totalCost).to.equal(10);
      expect(arcs.map((x) => f.flowOn(x))).to.deep.equal([2, 1, 1, 1, 2]);
    });
  });
});
