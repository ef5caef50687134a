/**
 * Why a proposal falls short, computed from the instance (the whole pool, not the pruned network). Pure.
 *
 * Reason codes (params in brackets), for reviewer slots (assigned < k):
 * - pool_too_small [eligible, needed, excluded]: fewer non-conflicted experts in the whole pool than k;
 *   `excluded` experts are ruled out by conflicts or officers' exclusions.
 * - province_cap [usable, needed, cap, byProvince]: enough non-conflicted experts, but at most `cap` may come
 *   from one province, which leaves only `usable` (byProvince: non-conflicted experts per province).
 * - load_exhausted [eligible, withSpareLoad, needed]: the pool would do, but only `withSpareLoad` of the
 *   `eligible` non-conflicted experts have load left after the other proposals were served.
 * - province_cap_full [provinces, cap]: the experts with load left are all from provinces that already give
 *   this proposal `cap` reviewers.
 * for the outside rule (no reviewer from a province outside the consortium):
 * - no_outside_expert [consortium, outsideInPool, excluded]: every non-conflicted expert is from the
 *   consortium's provinces (`outsideInPool` outside experts exist, `excluded` of them conflicted or excluded).
 * - outside_load_exhausted [eligibleOutside]: non-conflicted outside experts exist but have no load left.
 * - pins_fill_proposal [pinned]: officers' pins already fill every slot, all from the consortium's provinces.
 * and, only when the solver stopped before proving optimality (stats.exact false):
 * - search_limit [withSpareLoad]: experts with spare load and room remain; re-run with more candidates.
 */
import { isBlocked, isOutside, type Id, type Prepared } from './assignment-instance.js';

export type ShortfallCode =
  | 'pool_too_small'
  | 'province_cap'
  | 'load_exhausted'
  | 'province_cap_full'
  | 'no_outside_expert'
  | 'outside_load_exhausted'
  | 'pins_fill_proposal'
  | 'search_limit';

export interface ShortfallReason {
  code: ShortfallCode;
  params: Record<string, number | string | string[] | Record<string, number>>;
}

export interface Shortfall {
  proposalId: Id;
  assigned: number;
  needed: number;
  /** Whether a reviewer from outside the consortium's provinces is among those assigned. */
  outside: boolean;
  reasons: ShortfallReason[];
}

const sortedRecord = (m: Map<string, number>): Record<string, number> => Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

function* outsideExperts(pr: Prepared, p: number): Generator<number> {
  for (const [prov, experts] of pr.expertsByProvince) if (!pr.consortium[p]!.has(prov)) yield* experts;
}

/** Shortfalls of the (active) proposals, given the experts on each and every expert's final count. */
export function shortfallsOf(pr: Prepared, onProposal: readonly number[][], count: Int32Array): Shortfall[] {
  const out: Shortfall[] = [];
  for (let p = 0; p < pr.P; p++) {
    const k = pr.k[p]!;
    if (!pr.active[p] || k <= 0) continue;
    const on = onProposal[p]!;
    const assigned = on.length;
    const hasOutside = on.some((e) => isOutside(pr, e, p));
    const short = assigned < k;
    const outsideMissing = pr.requireOutside && !hasOutside;
    if (!short && !outsideMissing) continue;

    const onSet = new Set(on);
    const cap = pr.cap[p]!;
    let eligible = 0;
    let excluded = 0;
    let spare = 0;
    let eligibleOutside = 0;
    let spareOutside = 0;
    let outsideInPool = 0;
    let outsideExcluded = 0;
    const byProvince = new Map<string, number>();
    const spareByProvince = new Map<string, number>();
    const onByProvince = new Map<string, number>();
    for (const e of on) onByProvince.set(pr.province[e]!, (onByProvince.get(pr.province[e]!) ?? 0) + 1);
    // The whole pool when slots are missing; only the outside provinces' experts for the outside rule alone.
    const scan: Iterable<number> = short ? pr.input.experts.keys() : outsideExperts(pr, p);
    for (const e of scan) {
      const prov = pr.province[e]!;
      const outside = isOutside(pr, e, p);
      if (outside) outsideInPool++;
      if (isBlocked(pr, e, p)) {
        excluded++;
        if (outside) outsideExcluded++;
        continue;
      }
      eligible++;
      byProvince.set(prov, (byProvince.get(prov) ?? 0) + 1);
      if (outside) eligibleOutside++;
      if (!onSet.has(e) && count[e]! < pr.load[e]!) {
        spare++;
        spareByProvince.set(prov, (spareByProvince.get(prov) ?? 0) + 1);
        if (outside) spareOutside++;
      }
    }

    const reasons: ShortfallReason[] = [];
    if (short) {
      let usable = 0;
      for (const n of byProvince.values()) usable += Math.min(n, cap);
      if (eligible < k) reasons.push({ code: 'pool_too_small', params: { eligible, needed: k, excluded } });
      else if (usable < k) reasons.push({ code: 'province_cap', params: { usable, needed: k, cap, byProvince: sortedRecord(byProvince) } });
      else {
        reasons.push({ code: 'load_exhausted', params: { eligible, withSpareLoad: spare, needed: k } });
        const capped: string[] = [];
        let withRoom = 0;
        for (const [prov, n] of spareByProvince) {
          if ((onByProvince.get(prov) ?? 0) >= cap) capped.push(prov);
          else withRoom += n;
        }
        if (capped.length) reasons.push({ code: 'province_cap_full', params: { provinces: capped.sort(), cap } });
        if (withRoom) reasons.push({ code: 'search_limit', params: { withSpareLoad: withRoom } });
      }
    }
    if (outsideMissing) {
      if (eligibleOutside === 0) {
        const consortium = [...pr.consortium[p]!].sort();
        reasons.push({ code: 'no_outside_expert', params: { consortium, outsideInPool, excluded: outsideExcluded } });
      } else if (spareOutside === 0) reasons.push({ code: 'outside_load_exhausted', params: { eligibleOutside } });
      else if (pr.pinsOf[p]!.length >= k) reasons.push({ code: 'pins_fill_proposal', params: { pinned: pr.pinsOf[p]!.length } });
      else if (!reasons.some((r) => r.code === 'search_limit')) reasons.push({ code: 'search_limit', params: { withSpareLoad: spareOutside } });
    }
    out.push({ proposalId: pr.input.proposals[p]!.id, assigned, needed: k, outside: hasOutside, reasons });
  }
  return out;
}
