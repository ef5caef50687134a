/**
 * Reviewer assignment (专家分配) as a minimum-cost flow, as HotCRP and OpenReview's matcher do. Pure: no Express,
 * no Sequelize; ids in, pairs out.
 *
 * Rules: each proposal gets k reviewers; each expert at most their load; no conflicted or forbidden pair; at most
 * maxPerProvince(k) = ⌈k/2⌉ reviewers from one province; at least one reviewer from a province outside the
 * consortium's where the pool allows; pins are assigned first (see PinIssue for pins that break a rule).
 *
 * Objective, lexicographic: (1) as many reviewer slots filled as possible (a maximum flow); then (2) as many
 * proposals as possible with an outside reviewer; then (3) the largest total affinity less the load-spread cost,
 * where an expert's j-th review (j = 0, 1, …, pins included) costs loadSpread · j affinity — a convex cost that
 * makes the solver prefer a fresh expert unless the busier one is better by more than that (default 0.05 per
 * review already held; loadSpread 0 gives the plain affinity optimum).
 *
 * Network (assignment-network.ts builds it; every proposal supplies its open slots, the sink takes them):
 *   proposal → [outside node] → [group (proposal, province), capacity ⌈k/2⌉ minus pins from there] → expert → sink,
 * plus proposal → sink for a slot left empty. Costs are non-negative integers: scale·(1 − affinity) on the expert
 * arc (affinityScale, default 1000); one expert → sink arc per unit of spare load, the j-th costing the load-spread
 * tier; a bonus larger than anything criterion (3) can change on every unit into a proposal except the first
 * through its outside node; and an empty slot costs more than everything else can change. The minimum-cost flow is
 * therefore the lexicographic optimum. Group and outside nodes are left out where they cannot bind. mcf.ts solves it
 * by successive shortest paths from one proposal at a time, which keeps each search local.
 *
 * Pruning: 2,000 × 5,000 expert arcs would be 10 million, so each proposal starts with its `candidates` best
 * eligible experts by affinity plus its `outsideCandidates` best eligible experts from outside the consortium.
 * The pruning is then checked, not trusted: with the optimal node potentials, the left-out pairs of each proposal
 * are priced, best affinity first, until their affinity is too low to matter; a proposal with a pair of negative
 * reduced cost gets those experts added and its list doubled, and the flow is solved again. When no pair has a
 * negative reduced cost, the assignment is optimal for the full, unpruned instance (stats.exact); `maxRounds`
 * bounds the re-solves. On the 2,000 × 3 over 5,000 benchmark this takes two rounds.
 */
import { shortfallsOf, type Shortfall } from './assignment-report.js';
import {
  isOutside,
  eligible,
  prepare,
  type Assignment,
  type AssignmentInput,
  type AssignmentOptions,
  type AssignmentResult,
  type PairRef,
  type Prepared,
} from './assignment-instance.js';
import { buildNetwork, priceLeftOut, solveNetwork, type CandidateList } from './assignment-network.js';

export * from './assignment-instance.js';
export type { Shortfall, ShortfallCode, ShortfallReason } from './assignment-report.js';

/** Assigns reviewers. See the module comment for the rules, the objective and the pruning. */
export function assignReviewers(input: AssignmentInput, options: AssignmentOptions = {}): AssignmentResult {
  const pr = prepare(input, options);
  const scale = options.affinityScale ?? 1000;
  const spread = options.loadSpread ?? 0.05;
  const maxRounds = options.maxRounds ?? 12;
  const n0 = Math.max(1, options.candidates ?? 100);
  const m0 = Math.max(1, options.outsideCandidates ?? 10);

  const lists: (CandidateList | null)[] = [];
  const want = new Int32Array(pr.P).fill(n0);
  const extra: number[][] = Array.from({ length: pr.P }, () => []);
  for (let p = 0; p < pr.P; p++) lists.push(pr.need[p]! > 0 ? candidateList(pr, p, n0, m0, []) : null);

  let rounds = 0;
  let searches = 0;
  let exact = false;
  let net: ReturnType<typeof buildNetwork>;
  for (;;) {
    rounds++;
    net = buildNetwork(pr, lists, { scale, spread });
    solveNetwork(pr, net);
    searches += net.mcf.searches;
    const additions = priceLeftOut(pr, lists, net);
    if (additions.size === 0) {
      exact = true;
      break;
    }
    if (rounds >= maxRounds) break;
    for (const [p, experts] of additions) {
      want[p] = Math.min(pr.E, 2 * want[p]!);
      extra[p]!.push(...experts);
      lists[p] = candidateList(pr, p, want[p]!, m0, extra[p]!);
    }
  }
  return result(pr, lists, net, { rounds, searches, exact });
}

/** The first n eligible experts by affinity, the first m eligible from outside the consortium, and `extra`. */
function candidateList(pr: Prepared, p: number, n: number, m: number, extra: readonly number[]): CandidateList {
  const outsideWanted = pr.wantsOutside[p] === 1;
  let depth = Math.min(pr.E, n + m + 16);
  for (;;) {
    const r = pr.ranked(p, depth);
    const len = Math.min(r.experts.length, pr.E);
    const whole = len >= pr.E || r.experts.length < depth;
    const experts: number[] = [];
    const scores: number[] = [];
    const seen = new Set<number>();
    let taken = 0;
    let outside = 0;
    let bound = 1;
    let skipped = false;
    let i = 0;
    for (; i < len; i++) {
      if (taken >= n && (!outsideWanted || outside >= m)) break;
      const e = r.experts[i]!;
      if (!eligible(pr, e, p)) continue;
      const out = isOutside(pr, e, p);
      if (taken < n) {
        taken++;
        bound = r.scores[i]!;
      } else if (!(out && outside < m)) {
        skipped = true;
        continue;
      }
      if (out) outside++;
      experts.push(e);
      scores.push(r.scores[i]!);
      seen.add(e);
    }
    const stoppedEarly = i < len;
    if (!whole && !stoppedEarly) {
      depth = Math.min(pr.E, depth * 4);
      continue;
    }
    for (const e of extra)
      if (!seen.has(e) && eligible(pr, e, p)) {
        seen.add(e);
        experts.push(e);
        scores.push(pr.input.affinity.score(e, p));
      }
    // Complete: every eligible expert is in the list (nothing left to price).
    return { experts, scores, bound, complete: whole && !stoppedEarly && !skipped };
  }
}

function result(pr: Prepared, lists: readonly (CandidateList | null)[], net: ReturnType<typeof buildNetwork>, run: { rounds: number; searches: number; exact: boolean }): AssignmentResult {
  const assignments: Assignment[] = [];
  const onProposal: number[][] = Array.from({ length: pr.P }, () => []);
  const count = Int32Array.from(pr.pinCount);
  for (let p = 0; p < pr.P; p++)
    for (const e of pr.pinsOf[p]!) {
      assignments.push({ expertId: pr.input.experts[e]!.id, proposalId: pr.input.proposals[p]!.id, affinity: pr.input.affinity.score(e, p), pinned: true });
      onProposal[p]!.push(e);
    }
  for (const arc of net.expertArcs) {
    if (net.mcf.flowOn(arc.id) <= 0) continue;
    const list = lists[arc.p]!;
    const e = list.experts[arc.i]!;
    assignments.push({ expertId: pr.input.experts[e]!.id, proposalId: pr.input.proposals[arc.p]!.id, affinity: list.scores[arc.i]!, pinned: false });
    onProposal[arc.p]!.push(e);
    count[e]!++;
  }
  let totalAffinity = 0;
  for (const a of assignments) totalAffinity += a.affinity;
  const shortfalls = shortfallsOf(pr, onProposal, count);
  let full = 0;
  let withOutside = 0;
  for (let p = 0; p < pr.P; p++) {
    if (onProposal[p]!.length >= pr.k[p]!) full++;
    if (onProposal[p]!.some((e) => isOutside(pr, e, p))) withOutside++;
  }
  return {
    assignments,
    shortfalls,
    pinIssues: pr.pinIssues,
    totalAffinity,
    loads: pr.input.experts.map((e, i) => ({ expertId: e.id, assigned: count[i]!, load: e.load })),
    stats: { full, withOutside, rounds: run.rounds, searches: run.searches, candidateArcs: net.expertArcs.length, exact: run.exact },
  };
}

/**
 * A replacement for a declined invitation, by the same optimisation: the decline becomes a forbidden pair, every
 * other current assignment is pinned (nobody else moves), and only the declined proposal is filled again.
 */
export function proposeReplacement(
  input: AssignmentInput,
  current: readonly PairRef[],
  declined: PairRef,
  options: AssignmentOptions = {},
): { replacements: Assignment[]; shortfall: Shortfall | null; result: AssignmentResult } {
  const same = (a: PairRef) => a.expertId === declined.expertId && a.proposalId === declined.proposalId;
  const r = assignReviewers(
    { ...input, pins: current.filter((a) => !same(a)), forbids: [...(input.forbids ?? []), declined] },
    { ...options, only: [declined.proposalId] },
  );
  return {
    replacements: r.assignments.filter((a) => !a.pinned && a.proposalId === declined.proposalId),
    shortfall: r.shortfalls.find((s) => s.proposalId === declined.proposalId) ?? null,
    result: r,
  };
}
