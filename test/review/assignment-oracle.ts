/**
 * Independent oracles for the reviewer-assignment tests: random instances, the rules checked pair by pair,
 * a brute-force optimum for tiny instances, a plain max-flow for the number of fillable slots, and the
 * shortfall reasons recomputed with simple loops. None of it shares code with server/review.
 */
import fc from 'fast-check';
import type { AssignmentInput, AssignmentResult, PairRef } from '../../server/review/assignment.js';

export const YRD = ['SH', 'JS', 'ZJ', 'AH'];

export interface Inst {
  experts: { province: string; load: number }[];
  proposals: { k: number; provinces: string[] }[];
  /** Affinity in twentieths: aff[p][e] / 20. */
  aff: number[][];
  conflicts: [number, number][];
  forbids: [number, number][];
  pins: [number, number][];
  spread: number;
}

export const SCALE = 1000;

export function instanceArb(o: { maxP: number; maxE: number; maxK: number; maxLoad?: number; pins?: number }): fc.Arbitrary<Inst> {
  return fc.tuple(fc.integer({ min: 1, max: o.maxP }), fc.integer({ min: 1, max: o.maxE })).chain(([P, E]) =>
    fc.record({
      experts: fc.array(fc.record({ province: fc.constantFrom(...YRD, 'BJ'), load: fc.integer({ min: 0, max: o.maxLoad ?? 3 }) }), { minLength: E, maxLength: E }),
      proposals: fc.array(fc.record({ k: fc.integer({ min: 0, max: o.maxK }), provinces: fc.subarray(YRD, { minLength: 1 }) }), { minLength: P, maxLength: P }),
      aff: fc.array(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: E, maxLength: E }), { minLength: P, maxLength: P }),
      conflicts: fc.array(fc.tuple(fc.nat(E - 1), fc.nat(P - 1)), { maxLength: Math.ceil((P * E) / 3) }),
      forbids: fc.array(fc.tuple(fc.nat(E - 1), fc.nat(P - 1)), { maxLength: 2 }),
      pins: fc.array(fc.tuple(fc.nat(E - 1), fc.nat(P - 1)), { maxLength: o.pins ?? 0 }),
      spread: fc.constantFrom(0, 0, 0.05, 0.3),
    }),
  );
}

const pair = ([e, p]: [number, number]): PairRef => ({ expertId: `e${e}`, proposalId: `p${p}` });

export function toInput(inst: Inst): AssignmentInput {
  return {
    experts: inst.experts.map((x, i) => ({ id: `e${i}`, province: x.province, load: x.load })),
    proposals: inst.proposals.map((x, i) => ({ id: `p${i}`, k: x.k, provinces: x.provinces })),
    affinity: { score: (e, p) => inst.aff[p]![e]! / 20 },
    conflicts: inst.conflicts.map(pair),
    forbids: inst.forbids.map(pair),
    pins: inst.pins.map(pair),
  };
}

const key = (e: number, p: number) => `${e}|${p}`;
const cap = (k: number) => Math.ceil(k / 2);
export const tier = (spread: number, j: number) => Math.round(spread * SCALE * j);

/** Pins the solver must honour: known, not conflicted, not forbidden, de-duplicated. */
export function validPins(inst: Inst): Set<string> {
  const blocked = new Set([...inst.conflicts, ...inst.forbids].map(([e, p]) => key(e, p)));
  return new Set(inst.pins.map(([e, p]) => key(e, p)).filter((k) => !blocked.has(k)));
}

/** Pairs of a result as index tuples. */
export function pairsOf(r: AssignmentResult): [number, number][] {
  return r.assignments.map((a) => [Number(String(a.expertId).slice(1)), Number(String(a.proposalId).slice(1))]);
}

/** The lexicographic objective: slots filled, proposals with an outside reviewer, Σ scaled affinity − spread tiers. */
export function objective(inst: Inst, pairs: readonly [number, number][]): [number, number, number] {
  const count = new Map<number, number>();
  const outside = new Set<number>();
  let value = 0;
  for (const [e, p] of pairs) {
    value += Math.round((inst.aff[p]![e]! / 20) * SCALE);
    const j = count.get(e) ?? 0;
    value -= tier(inst.spread, j);
    count.set(e, j + 1);
    if (!inst.proposals[p]!.provinces.includes(inst.experts[e]!.province)) outside.add(p);
  }
  return [pairs.length, outside.size, value];
}

/** Every rule, pair by pair; returns the first breach or null. Pins may exceed a limit only by themselves. */
export function breach(inst: Inst, r: AssignmentResult): string | null {
  const blocked = new Set([...inst.conflicts, ...inst.forbids].map(([e, p]) => key(e, p)));
  const pins = validPins(inst);
  const seen = new Set<string>();
  const load = new Map<number, number>();
  const pinLoad = new Map<number, number>();
  const per = new Map<number, number[]>();
  for (const [e, p] of pairsOf(r)) {
    if (blocked.has(key(e, p))) return `conflicted or forbidden pair e${e} × p${p} assigned`;
    if (seen.has(key(e, p))) return `pair e${e} × p${p} twice`;
    seen.add(key(e, p));
    load.set(e, (load.get(e) ?? 0) + 1);
    if (pins.has(key(e, p))) pinLoad.set(e, (pinLoad.get(e) ?? 0) + 1);
    per.set(p, [...(per.get(p) ?? []), e]);
  }
  for (const pin of pins) if (!seen.has(pin)) return `pin ${pin} not honoured`;
  for (const [e, n] of load) if (n > Math.max(inst.experts[e]!.load, pinLoad.get(e) ?? 0)) return `expert e${e} over load`;
  for (const [p, es] of per) {
    const { k } = inst.proposals[p]!;
    const pinned = es.filter((e) => pins.has(key(e, p)));
    if (es.length > Math.max(k, pinned.length)) return `proposal p${p} over k`;
    for (const prov of new Set(es.map((e) => inst.experts[e]!.province))) {
      const n = es.filter((e) => inst.experts[e]!.province === prov).length;
      const np = pinned.filter((e) => inst.experts[e]!.province === prov).length;
      if (n > Math.max(cap(k), np)) return `proposal p${p}: ${n} from ${prov}`;
    }
  }
  return null;
}

const better = (a: number[], b: number[]) => a[0]! !== b[0]! ? a[0]! > b[0]! : a[1]! !== b[1]! ? a[1]! > b[1]! : a[2]! > b[2]!;

/** The best objective over every valid assignment (pins included), by exhaustive search. Tiny instances only. */
export function bruteForce(inst: Inst): [number, number, number] {
  const P = inst.proposals.length;
  const E = inst.experts.length;
  const blocked = new Set([...inst.conflicts, ...inst.forbids].map(([e, p]) => key(e, p)));
  const pins = validPins(inst);
  const pinsOf = (p: number) => [...Array(E).keys()].filter((e) => pins.has(key(e, p)));
  const pinCount = (e: number) => [...Array(P).keys()].filter((p) => pins.has(key(e, p))).length;
  // Per proposal, every admissible set of experts added to its pins.
  const options: number[][][] = [];
  for (let p = 0; p < P; p++) {
    const { k } = inst.proposals[p]!;
    const fixed = pinsOf(p);
    const free = [...Array(E).keys()].filter((e) => !blocked.has(key(e, p)) && !pins.has(key(e, p)));
    const room = (prov: string) => cap(k) - fixed.filter((e) => inst.experts[e]!.province === prov).length;
    const sets: number[][] = [];
    const grow = (from: number, chosen: number[]) => {
      sets.push(chosen);
      if (fixed.length + chosen.length >= k) return;
      for (let i = from; i < free.length; i++) {
        const e = free[i]!;
        const prov = inst.experts[e]!.province;
        if (chosen.filter((x) => inst.experts[x]!.province === prov).length + 1 > room(prov)) continue;
        grow(i + 1, [...chosen, e]);
      }
    };
    grow(0, []);
    options.push(sets);
  }
  const spare = inst.experts.map((x, e) => Math.max(0, x.load - pinCount(e)));
  let best: [number, number, number] | null = null;
  const chosen: number[][] = [];
  const walk = (p: number) => {
    if (p === P) {
      const pairs: [number, number][] = [];
      for (let q = 0; q < P; q++) for (const e of [...pinsOf(q), ...chosen[q]!]) pairs.push([e, q]);
      // Spread tiers count an expert's reviews in any order: the sum is the same.
      const o = objective(inst, pairs);
      if (!best || better(o, best)) best = o;
      return;
    }
    for (const set of options[p]!) {
      if (set.some((e) => spare[e]! <= 0)) continue;
      for (const e of set) spare[e]!--;
      chosen[p] = set;
      walk(p + 1);
      for (const e of set) spare[e]!++;
    }
  };
  walk(0);
  return best!;
}

/** Most slots that can be filled (no pins), by a textbook Edmonds–Karp max-flow on the unpruned network. */
export function maxFillable(inst: Inst): number {
  const P = inst.proposals.length;
  const E = inst.experts.length;
  const provinces = [...new Set(inst.experts.map((x) => x.province))];
  const blocked = new Set([...inst.conflicts, ...inst.forbids].map(([e, p]) => key(e, p)));
  const n = 2 + E + P * provinces.length + P;
  const s = 0;
  const t = 1;
  const ex = (e: number) => 2 + e;
  const gr = (p: number, i: number) => 2 + E + p * provinces.length + i;
  const pn = (p: number) => 2 + E + P * provinces.length + p;
  const c = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  inst.experts.forEach((x, e) => (c[s]![ex(e)] = x.load));
  inst.proposals.forEach((x, p) => {
    c[pn(p)]![t] = x.k;
    provinces.forEach((prov, i) => (c[gr(p, i)]![pn(p)] = cap(x.k)));
    inst.experts.forEach((y, e) => {
      if (!blocked.has(key(e, p))) c[ex(e)]![gr(p, provinces.indexOf(y.province))] = 1;
    });
  });
  let flow = 0;
  for (;;) {
    const prev = new Array<number>(n).fill(-1);
    prev[s] = s;
    const queue = [s];
    while (queue.length && prev[t] === -1) {
      const u = queue.shift()!;
      for (let v = 0; v < n; v++)
        if (prev[v] === -1 && c[u]![v]! > 0) {
          prev[v] = u;
          queue.push(v);
        }
    }
    if (prev[t] === -1) return flow;
    for (let v = t; v !== s; v = prev[v]!) {
      c[prev[v]!]![v]!--;
      c[v]![prev[v]!]!++;
    }
    flow++;
  }
}

/** The reason codes expected for each short proposal, recomputed from their definitions. */
export function expectedReasons(inst: Inst, r: AssignmentResult): Map<string, string[]> {
  const blocked = new Set([...inst.conflicts, ...inst.forbids].map(([e, p]) => key(e, p)));
  const pins = validPins(inst);
  const pairs = pairsOf(r);
  const count = new Map<number, number>();
  for (const [e] of pairs) count.set(e, (count.get(e) ?? 0) + 1);
  const out = new Map<string, string[]>();
  inst.proposals.forEach((x, p) => {
    if (x.k === 0) return;
    const on = pairs.filter(([, q]) => q === p).map(([e]) => e);
    const isOut = (e: number) => !x.provinces.includes(inst.experts[e]!.province);
    const short = on.length < x.k;
    const noOutside = !on.some(isOut);
    if (!short && !noOutside) return;
    const eligible = inst.experts.map((_, e) => e).filter((e) => !blocked.has(key(e, p)));
    const spare = eligible.filter((e) => !on.includes(e) && (count.get(e) ?? 0) < inst.experts[e]!.load);
    const codes: string[] = [];
    if (short) {
      const byProv = new Map<string, number>();
      for (const e of eligible) byProv.set(inst.experts[e]!.province, (byProv.get(inst.experts[e]!.province) ?? 0) + 1);
      const usable = [...byProv.values()].reduce((a, n) => a + Math.min(n, cap(x.k)), 0);
      if (eligible.length < x.k) codes.push('pool_too_small');
      else if (usable < x.k) codes.push('province_cap');
      else {
        codes.push('load_exhausted');
        if (spare.length) codes.push('province_cap_full');
      }
    }
    if (noOutside) {
      const pinned = on.filter((e) => pins.has(key(e, p))).length;
      if (!eligible.some(isOut)) codes.push('no_outside_expert');
      else if (!spare.some(isOut)) codes.push('outside_load_exhausted');
      else if (pinned >= x.k) codes.push('pins_fill_proposal');
      else codes.push('(none fits)');
    }
    out.set(`p${p}`, codes);
  });
  return out;
}
