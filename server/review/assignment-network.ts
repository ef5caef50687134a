/**
 * The flow network of the reviewer assignment (see assignment.ts for the model) and the pricing of the pairs
 * that pruning left out of it. Pure.
 */
import { isOutside, provinceRoom, eligible, type Prepared } from './assignment-instance.js';
import { MinCostFlow } from './mcf.js';

export interface CandidateList {
  /** Expert indices in the network for this proposal, with their affinities. */
  experts: number[];
  scores: number[];
  /** Upper bound on the affinity of every eligible expert not in the list. */
  bound: number;
  /** Every eligible expert is in the list. */
  complete: boolean;
}

export interface Network {
  mcf: MinCostFlow;
  sink: number;
  scale: number;
  /** Cost of an expert's j-th review (pins included). */
  tier: (j: number) => number;
  /** Cost of every unit into a proposal except its first outside reviewer. */
  outsideBonus: number;
  /** Cost of a slot left empty (the proposal → sink "nobody" arc). */
  emptySlot: number;
  expertNode: Int32Array;
  proposalNode: Int32Array;
  outsideNode: Int32Array;
  groupNode: Map<string, number>[];
  /** (group | outside | proposal) → expert arcs: arc id, proposal, position in its candidate list. */
  expertArcs: { id: number; p: number; i: number }[];
}

const clamp01 = (a: number) => (a < 0 ? 0 : a > 1 ? 1 : a);

/**
 * Flow goes from each proposal (its supply: the slots left after pins) to the sink:
 *   proposal → [outside node] → [group (proposal, province)] → expert → sink,   or proposal → sink ("nobody").
 * Costs, all non-negative integers: expert arc scale·(1 − affinity); expert → sink one arc per unit of spare load,
 * the j-th costing tier(j); `outsideBonus` on every unit into a proposal except its first outside reviewer (the
 * outside node's first unit is free); `emptySlot` on the nobody arc. emptySlot > any difference the rest can make,
 * and outsideBonus > any difference affinity and load spread can make, so the minimum cost is the lexicographic
 * optimum (slots filled, proposals with an outside reviewer, affinity less load spread).
 */
export function buildNetwork(pr: Prepared, lists: readonly (CandidateList | null)[], o: { scale: number; spread: number }): Network {
  const { scale, spread } = o;
  const tier = (j: number) => Math.round(spread * scale * j);
  let totalNeed = 0;
  for (let p = 0; p < pr.P; p++) if (lists[p]) totalNeed += pr.need[p]!;
  let maxHeld = 0;
  for (let e = 0; e < pr.E; e++) maxHeld = Math.max(maxHeld, pr.load[e]!, pr.pinCount[e]!);
  const perUnit = scale + tier(maxHeld);
  const outsideBonus = perUnit * (totalNeed + 1) + 1;
  const emptySlot = (outsideBonus + perUnit) * (totalNeed + 1) + 1;
  if (emptySlot * (totalNeed + 2) * 4 > Number.MAX_SAFE_INTEGER) throw new Error('instance too large for exact integer costs: lower affinityScale');

  const mcf = new MinCostFlow();
  const sink = mcf.addNode();
  const expertNode = new Int32Array(pr.E).fill(-1);
  const proposalNode = new Int32Array(pr.P).fill(-1);
  const outsideNode = new Int32Array(pr.P).fill(-1);
  const groupNode = Array.from({ length: pr.P }, () => new Map<string, number>());
  const expertArcs: Network['expertArcs'] = [];

  for (const list of lists) if (list) for (const e of list.experts) if (expertNode[e]! < 0) expertNode[e] = mcf.addNode();
  for (let e = 0; e < pr.E; e++) {
    const node = expertNode[e]!;
    if (node < 0 || pr.remLoad[e]! <= 0) continue;
    if (spread > 0) for (let j = 0; j < pr.remLoad[e]!; j++) mcf.addArc(node, sink, 1, tier(pr.pinCount[e]! + j));
    else mcf.addArc(node, sink, pr.remLoad[e]!, 0);
  }
  for (let p = 0; p < pr.P; p++) {
    const list = lists[p];
    const need = pr.need[p]!;
    if (!list || need <= 0) continue;
    const pNode = (proposalNode[p] = mcf.addNode());
    mcf.addArc(pNode, sink, need, emptySlot);
    if (pr.wantsOutside[p] && list.experts.some((e) => isOutside(pr, e, p))) {
      const agg = (outsideNode[p] = mcf.addNode());
      mcf.addArc(pNode, agg, 1, 0);
      if (need > 1) mcf.addArc(pNode, agg, need - 1, outsideBonus);
    }
    const agg = outsideNode[p]!;
    list.experts.forEach((e, i) => {
      const prov = pr.province[e]!;
      const out = agg >= 0 && isOutside(pr, e, p);
      const room = provinceRoom(pr, p, prov);
      let entry: number;
      let entryCost = 0;
      if (room < need) {
        let g = groupNode[p]!.get(prov);
        if (g === undefined) {
          g = mcf.addNode();
          groupNode[p]!.set(prov, g);
          mcf.addArc(out ? agg : pNode, g, room, out ? 0 : outsideBonus);
        }
        entry = g;
      } else {
        entry = out ? agg : pNode;
        entryCost = out ? 0 : outsideBonus;
      }
      const id = mcf.addArc(entry, expertNode[e]!, 1, scale - Math.round(clamp01(list.scores[i]!) * scale) + entryCost);
      expertArcs.push({ id, p, i });
    });
  }
  return { mcf, sink, scale, tier, outsideBonus, emptySlot, expertNode, proposalNode, outsideNode, groupNode, expertArcs };
}

/** Sends every proposal's slots; the nobody arcs make every unit arrive. */
export function solveNetwork(pr: Prepared, net: Network): void {
  for (let p = 0; p < pr.P; p++) {
    const node = net.proposalNode[p]!;
    if (node >= 0) net.mcf.send(node, net.sink, pr.need[p]!);
  }
}

/**
 * Pairs left out of the network that would make the solved flow cheaper: arcs of negative reduced cost under the
 * final potentials (a left-out expert, or group node, gets the potential most favourable to the current flow).
 * None → the flow is optimal for the unpruned instance. Returns proposal → experts to add.
 */
export function priceLeftOut(pr: Prepared, lists: readonly (CandidateList | null)[], net: Network): Map<number, number[]> {
  const { mcf, scale, outsideBonus } = net;
  const additions = new Map<number, number[]>();
  if (lists.every((l) => !l || l.complete)) return additions;
  const piSink = mcf.pi(net.sink);
  // An expert outside the network holds no flow: the lowest potential its arcs to the sink allow.
  const piExpert = (e: number) => (net.expertNode[e]! >= 0 ? mcf.pi(net.expertNode[e]!) : piSink - net.tier(pr.pinCount[e]!));
  const high = new Map<string, number>();
  for (const [prov, experts] of pr.expertsByProvince) {
    let pi = -Infinity;
    for (const e of experts) if (pr.remLoad[e]! > 0) pi = Math.max(pi, piExpert(e));
    high.set(prov, pi);
  }

  for (let p = 0; p < pr.P; p++) {
    const list = lists[p];
    const pNode = net.proposalNode[p]!;
    if (!list || list.complete || pNode < 0) continue;
    const agg = net.outsideNode[p]!;
    // Where a left-out expert of each province would hang: that node's potential and the cost added to its arc.
    const entryOf = new Map<string, { pi: number; cost: number }>();
    for (const prov of pr.expertsByProvince.keys()) {
      const room = provinceRoom(pr, p, prov);
      if (room <= 0) continue;
      const out = agg >= 0 && !pr.consortium[p]!.has(prov);
      const prev = out ? agg : pNode;
      const prevCost = out ? 0 : outsideBonus;
      let entry: { pi: number; cost: number };
      if (room < pr.need[p]!) {
        const g = net.groupNode[p]!.get(prov);
        entry = { pi: g !== undefined ? mcf.pi(g) : mcf.pi(prev) + prevCost, cost: 0 };
      } else entry = { pi: mcf.pi(prev), cost: prevCost };
      entryOf.set(prov, entry);
    }
    // Lowest reduced cost a left-out expert of affinity ≤ a could have: cost(a) + slack.
    let slack = Infinity;
    for (const [prov, entry] of entryOf) slack = Math.min(slack, entry.cost + entry.pi - high.get(prov)!);
    const costOf = (a: number) => scale - Math.round(clamp01(a) * scale);
    if (costOf(list.bound) + slack >= 0) continue;
    // Exact pricing of the left-out eligible experts, best first, until the rest cannot have a negative reduced cost.
    const inList = new Set(list.experts);
    const add: number[] = [];
    let depth = Math.min(pr.E, 2 * list.experts.length + 64);
    let i = 0;
    for (let done = false; !done; ) {
      const r = pr.ranked(p, depth);
      const len = Math.min(r.experts.length, pr.E);
      for (; i < len; i++) {
        const cost = costOf(r.scores[i]!);
        if (cost + slack >= 0) {
          done = true;
          break;
        }
        const e = r.experts[i]!;
        if (inList.has(e) || !eligible(pr, e, p)) continue;
        const entry = entryOf.get(pr.province[e]!)!;
        if (cost + entry.cost + entry.pi - piExpert(e) < 0) add.push(e);
      }
      if (len >= pr.E || r.experts.length < depth) done = true;
      depth = Math.min(pr.E, depth * 4);
    }
    if (add.length) additions.set(p, add);
  }
  return additions;
}
