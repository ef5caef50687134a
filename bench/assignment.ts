/**
 * assignment_2000x3_s: the reviewer-assignment solver alone, on data in memory — 2,000 proposals × k = 3 over
 * 5,000 experts in 4 provinces, consortia of 2–4 provinces, ~1 % conflicts, loads 2–4, province caps and the
 * outside rule. Titles come from data/nsfc-projects.csv (synthetic Chinese otherwise); disciplines, keywords,
 * profiles, consortia and conflicts are synthetic and seeded, so every run solves the same instance.
 *
 * The affinity precomputation (TF-IDF index and each proposal's ranked experts) is timed separately and noted.
 *
 * `npx tsx bench/assignment.ts` measures and merges the entry into bench/results.json; bench/run.ts can list
 * `assignmentMeasurement` in its measurements (it needs no app).
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AffinityIndex, type ExpertProfile, type ProposalText } from '../server/review/affinity.js';
import { assignReviewers, type AssignmentInput, type ExpertSlot, type PairRef, type ProposalSlot } from '../server/review/assignment.js';
import type { Measured, Measurement } from './lib/measurements.js';
import { meets, table, targetText, writeResults, type Entry, type Target } from './lib/results.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PROVINCES = ['SH', 'JS', 'ZJ', 'AH'];
const SUBJECTS = ['G01', 'G02', 'G03', 'G04'];

export interface BenchInstance {
  input: AssignmentInput;
  proposals: ProposalText[];
  experts: ExpertProfile[];
  precomputeSeconds: number;
  source: string;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function csvTitles(): string[] | null {
  const file = path.join(ROOT, 'data', 'nsfc-projects.csv');
  if (!existsSync(file)) return null;
  const titles: string[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
    if (!line.trim()) continue;
    const cells: string[] = [];
    let cur = '';
    let quoted = false;
    for (const ch of line) {
      if (ch === '"') quoted = !quoted;
      else if (ch === ',' && !quoted) {
        cells.push(cur);
        cur = '';
      } else cur += ch;
    }
    cells.push(cur);
    if (cells[2]?.trim()) titles.push(cells[2].trim());
  }
  return titles;
}

function syntheticTitles(rand: () => number, n: number): string[] {
  const chars = '管理决策网络模型优化风险金融市场企业创新供应链数据分析行为机制政策区域经济协同评价方法系统服务平台技术产业发展治理绿色低碳城市交通能源医疗健康智能制造数字转型';
  const pick = () => chars[Math.floor(rand() * chars.length)]!;
  return Array.from({ length: n }, () => Array.from({ length: 12 + Math.floor(rand() * 14) }, pick).join('') + '研究');
}

/** The benchmark instance, deterministic for a seed. */
export function benchInstance(o: { proposals?: number; experts?: number; k?: number; seed?: number } = {}): BenchInstance {
  const P = o.proposals ?? 2000;
  const E = o.experts ?? 5000;
  const k = o.k ?? 3;
  const rand = mulberry32(o.seed ?? 20_240_601);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const fromCsv = csvTitles();
  const titles = fromCsv ?? syntheticTitles(rand, 4800);
  // A discipline per title (subject + sub-field), so that text and discipline agree.
  const codeOf = titles.map(() => `${pick(SUBJECTS)}${String(int(1, 12)).padStart(2, '0')}`);
  const bySubject = new Map<string, number[]>();
  codeOf.forEach((c, i) => {
    const key = c.slice(0, 3);
    bySubject.set(key, [...(bySubject.get(key) ?? []), i]);
  });
  const phrase = (title: string) => {
    const chars = [...title.replace(/[^\u4e00-\u9fff]/gu, '')];
    if (chars.length < 4) return title;
    const at = int(0, chars.length - 4);
    return chars.slice(at, at + int(2, 4)).join('');
  };

  const proposalTexts: ProposalText[] = [];
  const proposals: ProposalSlot[] = [];
  for (let p = 0; p < P; p++) {
    const t = int(0, titles.length - 1);
    const related = bySubject.get(codeOf[t]!.slice(0, 3))!;
    proposalTexts.push({
      title: titles[t]!,
      abstract: [titles[t]!, titles[pick(related)]!, titles[pick(related)]!].join('。'),
      keywords: Array.from({ length: int(3, 5) }, () => phrase(titles[t]!)),
      discipline: codeOf[t]!,
    });
    const provinces = [...PROVINCES].sort(() => rand() - 0.5).slice(0, int(2, 4));
    proposals.push({ id: p + 1, k, provinces });
  }
  const expertTexts: ExpertProfile[] = [];
  const experts: ExpertSlot[] = [];
  for (let e = 0; e < E; e++) {
    const home = int(0, titles.length - 1);
    const related = bySubject.get(codeOf[home]!.slice(0, 3))!;
    const past = [home, ...Array.from({ length: int(3, 7) }, () => pick(related))];
    const codes = [codeOf[home]!, ...(rand() < 0.4 ? [codeOf[pick(related)]!] : [])];
    expertTexts.push({
      keywords: Array.from({ length: int(3, 6) }, () => phrase(titles[pick(past)]!)),
      profile: past.map((i) => titles[i]!).join('；'),
      disciplines: codes,
    });
    experts.push({ id: `x${e + 1}`, province: pick(PROVINCES), load: int(2, 4) });
  }
  // ~1 % of all pairs are conflicts.
  const conflicts: PairRef[] = [];
  const seen = new Set<number>();
  const target = Math.round(0.01 * P * E);
  while (conflicts.length < target) {
    const e = int(0, E - 1);
    const p = int(0, P - 1);
    if (seen.has(e * P + p)) continue;
    seen.add(e * P + p);
    conflicts.push({ expertId: experts[e]!.id, proposalId: proposals[p]!.id });
  }

  const started = performance.now();
  const affinity = new AffinityIndex(proposalTexts, expertTexts);
  for (let p = 0; p < P; p++) affinity.ranked(p, 200);
  const precomputeSeconds = (performance.now() - started) / 1000;
  return {
    input: { proposals, experts, affinity, conflicts },
    proposals: proposalTexts,
    experts: expertTexts,
    precomputeSeconds,
    source: fromCsv ? 'titles from data/nsfc-projects.csv' : 'synthetic titles',
  };
}

/** Rules every assignment must keep; throws on the first breach. */
function check(inst: BenchInstance, r: ReturnType<typeof assignReviewers>): void {
  const { proposals, experts } = inst.input;
  const conflicts = new Set([...(inst.input.conflicts ?? [])].map((c) => `${c.expertId}|${c.proposalId}`));
  const province = new Map(experts.map((e) => [e.id, e.province]));
  const perExpert = new Map<unknown, number>();
  const perProposal = new Map<unknown, string[]>();
  for (const a of r.assignments) {
    if (conflicts.has(`${a.expertId}|${a.proposalId}`)) throw new Error(`conflicted pair assigned: ${a.expertId} × ${a.proposalId}`);
    perExpert.set(a.expertId, (perExpert.get(a.expertId) ?? 0) + 1);
    perProposal.set(a.proposalId, [...(perProposal.get(a.proposalId) ?? []), province.get(a.expertId)!]);
  }
  for (const e of experts) if ((perExpert.get(e.id) ?? 0) > e.load) throw new Error(`expert ${e.id} over load`);
  for (const p of proposals) {
    const provs = perProposal.get(p.id) ?? [];
    if (provs.length > p.k) throw new Error(`proposal ${p.id} over k`);
    for (const x of new Set(provs)) if (provs.filter((y) => y === x).length > Math.ceil(p.k / 2)) throw new Error(`proposal ${p.id}: province cap broken`);
  }
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;

export async function measureAssignment(log: (m: string) => void = () => {}): Promise<Measured> {
  log('assignment: generating 2,000 proposals × 5,000 experts and precomputing affinities');
  const inst = benchInstance();
  log(`assignment: affinity precomputation ${r3(inst.precomputeSeconds)} s; solving`);
  const loadAvg = Math.round(os.loadavg()[0]! * 100) / 100;
  const started = performance.now();
  const r = assignReviewers(inst.input);
  const seconds = (performance.now() - started) / 1000;
  check(inst, r);
  const P = inst.input.proposals.length;
  const outsidePossible = inst.input.proposals.filter((p) => p.provinces.length < 4).length;
  const codes: Record<string, number> = {};
  for (const s of r.shortfalls) for (const reason of s.reasons) codes[reason.code] = (codes[reason.code] ?? 0) + 1;
  return {
    value: r3(seconds),
    proposals: P,
    experts: inst.input.experts.length,
    k: 3,
    conflicts: [...(inst.input.conflicts ?? [])].length,
    proposals_with_k: r.stats.full,
    proposals_with_outside: r.stats.withOutside,
    outside_possible: outsidePossible,
    mean_affinity: r3(r.totalAffinity / Math.max(1, r.assignments.length)),
    shortfall_reasons: codes,
    exact: r.stats.exact,
    rounds: r.stats.rounds,
    shortest_path_searches: r.stats.searches,
    candidate_arcs: r.stats.candidateArcs,
    affinity_precompute_s: r3(inst.precomputeSeconds),
    load_avg_1m: loadAvg,
    note: `solver alone, data in memory (${inst.source}); affinity precomputation ${r3(inst.precomputeSeconds)} s not included`,
  };
}

const TARGET: Target = { max: 5 };

export const assignmentMeasurement: Measurement = {
  name: 'assignment_2000x3_s',
  unit: 's',
  target: TARGET,
  run: (ctx) => measureAssignment(ctx.log),
};

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const raw = await measureAssignment((m) => console.log(`[bench] ${m}`));
  const { value, ...extra } = raw;
  const entry: Entry = { value, unit: 's', target: targetText(TARGET), met: meets(value, TARGET), ...extra, measured_at: new Date().toISOString() };
  writeResults(path.join(ROOT, 'bench', 'results.json'), { assignment_2000x3_s: entry });
  console.log(`\n${table({ assignment_2000x3_s: entry })}\n`);
  console.log(JSON.stringify(extra));
}
