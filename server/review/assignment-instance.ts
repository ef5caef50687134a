/**
 * The assignment instance: input and output types, and the instance with ids resolved to indices and pins
 * applied (Prepared), shared by assignment.ts, assignment-network.ts and assignment-report.ts. Pure.
 */
import { topN } from './affinity.js';
import type { Shortfall } from './assignment-report.js';

export type Id = string | number;

export interface ProposalSlot {
  id: Id;
  /** Reviewers wanted (from the call). */
  k: number;
  /** Provinces of the consortium (lead and partners). */
  provinces: readonly string[];
}

export interface ExpertSlot {
  id: Id;
  province: string;
  /** Load cap: most proposals this expert reviews in this round. */
  load: number;
}

export interface PairRef {
  expertId: Id;
  proposalId: Id;
}

export interface RankedExperts {
  /** Expert indices, best affinity first (ties: lower index first). */
  experts: ArrayLike<number>;
  scores: ArrayLike<number>;
}

/** Affinity in [0, 1] by index into the instance's experts and proposals. */
export interface AffinitySource {
  score(expert: number, proposal: number): number;
  /** At least the n best experts for the proposal (all of them when n ≥ their number). Optional: else derived from score. */
  ranked?(proposal: number, n: number): RankedExperts;
}

export interface AssignmentInput {
  proposals: readonly ProposalSlot[];
  experts: readonly ExpertSlot[];
  affinity: AffinitySource;
  /** Pairs that may never be assigned (回避), whatever their cause. */
  conflicts?: Iterable<PairRef>;
  /** Pairs an officer has excluded (also declined invitations). */
  forbids?: Iterable<PairRef>;
  /** Pairs an officer requires; they count towards k, loads and province caps. */
  pins?: Iterable<PairRef>;
}

export interface AssignmentOptions {
  /** Best eligible experts per proposal in the first network (default 100). */
  candidates?: number;
  /** Best eligible experts from outside the consortium per proposal, in addition (default 10). */
  outsideCandidates?: number;
  /** Affinity given up per review an expert already holds (default 0.05; 0 = pure affinity). */
  loadSpread?: number;
  /** Integer resolution of affinities in the network (default 1000). */
  affinityScale?: number;
  maxPerProvince?: (k: number) => number;
  /** At least one reviewer from outside the consortium's provinces, where the pool allows (default true). */
  requireOutside?: boolean;
  /** Fill only these proposals (others keep their pins): for replacements. */
  only?: Iterable<Id>;
  /** Re-solves allowed for widening pruned candidate lists (default 12). */
  maxRounds?: number;
}

export interface Assignment {
  expertId: Id;
  proposalId: Id;
  affinity: number;
  pinned: boolean;
}

export type PinIssueCode = 'unknown' | 'conflict' | 'forbidden' | 'over_load' | 'over_k' | 'over_province_cap';

/** A pin that could not be honoured (unknown, conflict, forbidden) or was honoured although it breaks a rule. */
export interface PinIssue {
  expertId: Id;
  proposalId: Id;
  code: PinIssueCode;
  honoured: boolean;
}

export interface AssignmentResult {
  assignments: Assignment[];
  shortfalls: Shortfall[];
  pinIssues: PinIssue[];
  totalAffinity: number;
  loads: { expertId: Id; assigned: number; load: number }[];
  stats: {
    /** Proposals with k reviewers. */
    full: number;
    /** Proposals with a reviewer from outside the consortium (among those that need one). */
    withOutside: number;
    rounds: number;
    /** Shortest-path searches (one per slot per round). */
    searches: number;
    candidateArcs: number;
    /** True when pricing proved the pruned network's optimum optimal for the whole instance. */
    exact: boolean;
  };
}

export const defaultMaxPerProvince = (k: number): number => Math.ceil(k / 2);

/** The instance with ids resolved to indices and pins applied. Shared with network.ts and assignment-report.ts. */
export interface Prepared {
  input: AssignmentInput;
  P: number;
  E: number;
  k: Int32Array;
  cap: Int32Array;
  consortium: Set<string>[];
  province: string[];
  load: Int32Array;
  conflict: Set<number>;
  forbid: Set<number>;
  /** Honoured pins: key e * P + p. */
  pinned: Set<number>;
  pinsOf: number[][];
  pinCount: Int32Array;
  pinnedProvince: Map<string, number>[];
  pinnedOutside: Uint8Array;
  remLoad: Int32Array;
  need: Int32Array;
  active: Uint8Array;
  requireOutside: boolean;
  /** The outside rule applies and can still be met: no pinned outside reviewer yet, an outside expert with load left. */
  wantsOutside: Uint8Array;
  expertsByProvince: Map<string, number[]>;
  pinIssues: PinIssue[];
  ranked(p: number, n: number): RankedExperts;
}

export const isBlocked = (pr: Prepared, e: number, p: number): boolean => pr.conflict.has(e * pr.P + p) || pr.forbid.has(e * pr.P + p);
export const isOutside = (pr: Prepared, e: number, p: number): boolean => !pr.consortium[p]!.has(pr.province[e]!);
export const provinceRoom = (pr: Prepared, p: number, province: string): number => pr.cap[p]! - (pr.pinnedProvince[p]!.get(province) ?? 0);

export function prepare(input: AssignmentInput, options: AssignmentOptions): Prepared {
  const P = input.proposals.length;
  const E = input.experts.length;
  const pIndex = new Map<Id, number>();
  const eIndex = new Map<Id, number>();
  input.proposals.forEach((p, i) => {
    if (pIndex.has(p.id)) throw new Error(`proposal ${p.id} listed twice`);
    if (!Number.isInteger(p.k) || p.k < 0) throw new Error(`proposal ${p.id}: k must be a non-negative integer`);
    pIndex.set(p.id, i);
  });
  input.experts.forEach((e, i) => {
    if (eIndex.has(e.id)) throw new Error(`expert ${e.id} listed twice`);
    if (!Number.isInteger(e.load) || e.load < 0) throw new Error(`expert ${e.id}: load must be a non-negative integer`);
    eIndex.set(e.id, i);
  });
  const keys = (pairs: Iterable<PairRef> | undefined) => {
    const set = new Set<number>();
    for (const pair of pairs ?? []) {
      const e = eIndex.get(pair.expertId);
      const p = pIndex.get(pair.proposalId);
      if (e !== undefined && p !== undefined) set.add(e * P + p);
    }
    return set;
  };
  const maxPerProvince = options.maxPerProvince ?? defaultMaxPerProvince;
  const k = Int32Array.from(input.proposals, (p) => p.k);
  const only = options.only ? new Set(options.only) : null;
  const pr: Prepared = {
    input,
    P,
    E,
    k,
    cap: Int32Array.from(input.proposals, (p) => Math.max(0, Math.floor(maxPerProvince(p.k)))),
    consortium: input.proposals.map((p) => new Set(p.provinces)),
    province: input.experts.map((e) => e.province),
    load: Int32Array.from(input.experts, (e) => e.load),
    conflict: keys(input.conflicts),
    forbid: keys(input.forbids),
    pinned: new Set(),
    pinsOf: Array.from({ length: P }, () => []),
    pinCount: new Int32Array(E),
    pinnedProvince: Array.from({ length: P }, () => new Map()),
    pinnedOutside: new Uint8Array(P),
    remLoad: new Int32Array(E),
    need: new Int32Array(P),
    active: Uint8Array.from(input.proposals, (p) => (only === null || only.has(p.id) ? 1 : 0)),
    requireOutside: options.requireOutside ?? true,
    wantsOutside: new Uint8Array(P),
    expertsByProvince: new Map(),
    pinIssues: [],
    ranked: rankedFrom(input.affinity, E),
  };
  input.experts.forEach((e, i) => {
    const l = pr.expertsByProvince.get(e.province);
    if (l) l.push(i);
    else pr.expertsByProvince.set(e.province, [i]);
  });

  for (const pin of input.pins ?? []) {
    const e = eIndex.get(pin.expertId);
    const p = pIndex.get(pin.proposalId);
    const issue = (code: PinIssueCode, honoured: boolean) => pr.pinIssues.push({ expertId: pin.expertId, proposalId: pin.proposalId, code, honoured });
    if (e === undefined || p === undefined) issue('unknown', false);
    else if (pr.conflict.has(e * P + p)) issue('conflict', false);
    else if (pr.forbid.has(e * P + p)) issue('forbidden', false);
    else if (!pr.pinned.has(e * P + p)) {
      pr.pinned.add(e * P + p);
      pr.pinsOf[p]!.push(e);
      pr.pinCount[e]!++;
      const prov = pr.province[e]!;
      pr.pinnedProvince[p]!.set(prov, (pr.pinnedProvince[p]!.get(prov) ?? 0) + 1);
      if (isOutside(pr, e, p)) pr.pinnedOutside[p] = 1;
      if (pr.pinCount[e]! > pr.load[e]!) issue('over_load', true);
      if (pr.pinsOf[p]!.length > k[p]!) issue('over_k', true);
      if (pr.pinnedProvince[p]!.get(prov)! > pr.cap[p]!) issue('over_province_cap', true);
    }
  }
  for (let e = 0; e < E; e++) pr.remLoad[e] = Math.max(0, pr.load[e]! - pr.pinCount[e]!);
  const spareByProvince = new Map<string, number>();
  for (let e = 0; e < E; e++) if (pr.remLoad[e]! > 0) spareByProvince.set(pr.province[e]!, (spareByProvince.get(pr.province[e]!) ?? 0) + 1);
  for (let p = 0; p < P; p++) {
    pr.need[p] = pr.active[p] ? Math.max(0, k[p]! - pr.pinsOf[p]!.length) : 0;
    if (pr.requireOutside && !pr.pinnedOutside[p]) for (const prov of spareByProvince.keys()) if (!pr.consortium[p]!.has(prov)) pr.wantsOutside[p] = 1;
  }
  return pr;
}

/** Ranking from the source's own `ranked`, else by scoring every expert (fine for small pools), cached. */
function rankedFrom(source: AffinitySource, E: number): (p: number, n: number) => RankedExperts {
  if (source.ranked) return (p, n) => source.ranked!(p, n);
  const cache = new Map<number, RankedExperts>();
  return (p) => {
    let r = cache.get(p);
    if (!r) {
      const row = new Float64Array(E);
      for (let e = 0; e < E; e++) row[e] = source.score(e, p);
      cache.set(p, (r = topN(row, E)));
    }
    return r;
  };
}

/** Whether expert e may be added to proposal p by the solver. */
export function eligible(pr: Prepared, e: number, p: number): boolean {
  return pr.remLoad[e]! > 0 && !isBlocked(pr, e, p) && !pr.pinned.has(e * pr.P + p) && provinceRoom(pr, p, pr.province[e]!) > 0;
}

