/**
 * Affinity of an expert for a proposal, in [0, 1], deterministic. Pure: no Express, no Sequelize.
 *
 *   affinity = 0.5 · text + 0.3 · discipline + 0.2 · keywords        (AFFINITY_WEIGHTS)
 *
 * - text: cosine similarity of TF-IDF vectors. Terms are character bigrams of runs of Chinese characters
 *   (单字 runs give their one character) and lower-cased Latin words/numbers. Proposal side: title, abstract and
 *   keywords; expert side: keywords and profile text (research interests, past project titles). Term weight
 *   (1 + ln tf) · idf with the smoothed idf ln((1 + N) / (1 + df)) + 1 over all proposals and experts of the instance;
 *   vectors are L2-normalised, so the cosine is in [0, 1].
 * - discipline: the proposal's NSFC-style code (letter + two-digit levels, e.g. G0101) against the expert's codes,
 *   best match: same code 1; one is an ancestor of the other (G01 vs G0101) 0.8; same first-level subject
 *   (G0101 vs G0102, both under G01) 0.5; same department letter only 0.2; otherwise 0.
 * - keywords: Jaccard overlap of the two keyword sets (NFKC, lower case, trimmed).
 *
 * For 2,000 proposals × 5,000 experts, `row(p)` scores one proposal against every expert at once through an
 * inverted index over the experts' terms and keywords; `ranked(p, n)` gives the n best experts (cached), which is
 * what the assignment solver asks for.
 */
import type { AffinitySource, RankedExperts } from './assignment-instance.js';

export const AFFINITY_WEIGHTS = { text: 0.5, discipline: 0.3, keywords: 0.2 } as const;

export interface ProposalText {
  title: string;
  abstract?: string | null;
  keywords?: string | readonly string[] | null;
  discipline?: string | null;
}

export interface ExpertProfile {
  keywords?: string | readonly string[] | null;
  profile?: string | null;
  disciplines?: readonly string[] | null;
}

const CJK = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+/gu;
const WORD = /[\p{L}\p{N}]+/gu;

/** The terms of a text: bigrams of each run of Chinese characters, plus lower-cased Latin words and numbers. */
export function terms(text: string): string[] {
  const s = text.normalize('NFKC').toLowerCase();
  const out: string[] = [];
  for (const run of s.match(CJK) ?? []) {
    const chars = [...run];
    if (chars.length === 1) out.push(chars[0]!);
    for (let i = 0; i + 1 < chars.length; i++) out.push(chars[i]! + chars[i + 1]!);
  }
  for (const word of s.replace(CJK, ' ').match(WORD) ?? []) out.push(word);
  return out;
}

/**
 * The same sequence as terms(), as keys that are cheaper to look up: a Chinese term (its characters are all single
 * UTF-16 units) as the number c or c₁·65536 + c₂, any other word as its string. The two kinds never name the same
 * term (words hold no character of the Chinese ranges).
 */
function eachTerm(text: string, cjk: (key: number) => void, word: (w: string) => void): void {
  const s = text.normalize('NFKC').toLowerCase();
  for (const run of s.match(CJK) ?? []) {
    if (run.length === 1) cjk(run.charCodeAt(0));
    for (let i = 0; i + 1 < run.length; i++) cjk(run.charCodeAt(i) * 65536 + run.charCodeAt(i + 1));
  }
  for (const w of s.replace(CJK, ' ').match(WORD) ?? []) word(w);
}

/** Keywords as a clean set: split on commas, semicolons, 、 and line breaks; NFKC; lower case; de-duplicated. */
export function normaliseKeywords(k: string | readonly string[] | null | undefined): string[] {
  if (!k) return [];
  const parts = typeof k === 'string' ? k.split(/[,;，；、\n]+/u) : k;
  const set = new Set<string>();
  for (const p of parts) {
    const w = p.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
    if (w) set.add(w);
  }
  return [...set].sort();
}

/** Match of two discipline codes (see the module comment for the grades). */
export function disciplineMatch(a: string, b: string): number {
  const x = a.trim().toUpperCase();
  const y = b.trim().toUpperCase();
  if (!x || !y) return 0;
  if (x === y) return 1;
  if (x.startsWith(y) || y.startsWith(x)) return Math.min(x.length, y.length) >= 3 ? 0.8 : 0.2;
  if (x.length >= 3 && y.length >= 3 && x.slice(0, 3) === y.slice(0, 3)) return 0.5;
  return x[0] === y[0] ? 0.2 : 0;
}

/** Jaccard overlap of two sorted, de-duplicated keyword lists. */
export function jaccard(a: readonly string[], b: readonly string[]): number {
  if (!a.length || !b.length) return 0;
  const set = new Set(a);
  let inter = 0;
  for (const w of b) if (set.has(w)) inter++;
  return inter / (a.length + b.length - inter);
}

interface SparseVector {
  ids: Int32Array; // ascending term ids
  weights: Float64Array;
}

function proposalText(p: ProposalText, keywords: readonly string[]): string {
  return [p.title, p.abstract ?? '', keywords.join(' ')].join('\n');
}

function expertText(e: ExpertProfile, keywords: readonly string[]): string {
  return [keywords.join(' '), e.profile ?? ''].join('\n');
}

/** Affinities of one instance's proposals × experts (indices as in the arrays given). */
export class AffinityIndex implements AffinitySource {
  private readonly pVec: SparseVector[];
  private readonly eVec: SparseVector[];
  /** Inverted index, flat: the experts holding term t (ascending) and their weights at postStart[t] … postStart[t + 1]. */
  private readonly postStart: Int32Array;
  private readonly postExpert: Int32Array;
  private readonly postWeight: Float64Array;
  private readonly pKeywords: string[][];
  private readonly eKeywords: string[][];
  private readonly eKeywordCount: Int32Array;
  private readonly keywordPostings = new Map<string, number[]>();
  private readonly pDiscipline: string[];
  private readonly eDisciplines: string[][];
  /** The experts' distinct discipline codes, and each expert's as indices into them at eCodeStart[e] … eCodeStart[e + 1]. */
  private readonly codes: string[] = [];
  private readonly eCodeStart: Int32Array;
  private readonly eCodeIds: Int32Array;
  /** Proposal code → the discipline component of every expert (proposals share codes). */
  private readonly disciplineRows = new Map<string, Float64Array>();
  private readonly rankedCache = new Map<number, RankedExperts>();
  /** Scratch rows of row(), reused: a fresh pair per proposal is most of the garbage of a run. */
  private textScratch: Float64Array | null = null;
  private interScratch: Int32Array | null = null;

  constructor(
    readonly proposals: readonly ProposalText[],
    readonly experts: readonly ExpertProfile[],
  ) {
    // Term counts per document without a map per document: ids in first-seen order (as the vocabulary grows),
    // counted in one scratch array, kept as ascending ids with their counts.
    const vocab = { cjk: new Map<number, number>(), words: new Map<string, number>(), size: 0 };
    let tfScratch = new Int32Array(1024);
    let seen: number[] = [];
    const count = (id: number) => {
      if (id >= tfScratch.length) {
        const grown = new Int32Array(2 * tfScratch.length);
        grown.set(tfScratch);
        tfScratch = grown;
      }
      if (tfScratch[id]!++ === 0) seen.push(id);
    };
    const onCjk = (key: number) => {
      let id = vocab.cjk.get(key);
      if (id === undefined) vocab.cjk.set(key, (id = vocab.size++));
      count(id);
    };
    const onWord = (w: string) => {
      let id = vocab.words.get(w);
      if (id === undefined) vocab.words.set(w, (id = vocab.size++));
      count(id);
    };
    const counts = (text: string): { ids: Int32Array; tf: Int32Array } => {
      seen = [];
      eachTerm(text, onCjk, onWord);
      const ids = Int32Array.from(seen).sort();
      const tf = ids.map((id) => tfScratch[id]!);
      for (const id of seen) tfScratch[id] = 0;
      return { ids, tf };
    };
    this.pKeywords = proposals.map((p) => normaliseKeywords(p.keywords));
    this.eKeywords = experts.map((e) => normaliseKeywords(e.keywords));
    const pTf = proposals.map((p, i) => counts(proposalText(p, this.pKeywords[i]!)));
    const eTf = experts.map((e, i) => counts(expertText(e, this.eKeywords[i]!)));
    const df = new Float64Array(vocab.size);
    for (const doc of [pTf, eTf]) for (const { ids } of doc) for (let i = 0; i < ids.length; i++) df[ids[i]!]!++;
    const docs = pTf.length + eTf.length;
    const idf = df.map((d) => Math.log((1 + docs) / (1 + d)) + 1);
    const vector = ({ ids, tf }: { ids: Int32Array; tf: Int32Array }): SparseVector => {
      const weights = new Float64Array(ids.length);
      let norm = 0;
      for (let i = 0; i < ids.length; i++) {
        const w = (1 + Math.log(tf[i]!)) * idf[ids[i]!]!;
        weights[i] = w;
        norm += w * w;
      }
      norm = Math.sqrt(norm);
      if (norm > 0) for (let i = 0; i < weights.length; i++) weights[i] = weights[i]! / norm;
      return { ids, weights };
    };
    this.pVec = pTf.map(vector);
    this.eVec = eTf.map(vector);

    this.postStart = new Int32Array(vocab.size + 1);
    for (const v of this.eVec) for (let i = 0; i < v.ids.length; i++) this.postStart[v.ids[i]! + 1]!++;
    for (let t = 0; t < vocab.size; t++) this.postStart[t + 1] = this.postStart[t + 1]! + this.postStart[t]!;
    this.postExpert = new Int32Array(this.postStart[vocab.size]!);
    this.postWeight = new Float64Array(this.postExpert.length);
    const fill = this.postStart.slice(0, vocab.size);
    this.eVec.forEach((v, e) => {
      for (let i = 0; i < v.ids.length; i++) {
        const at = fill[v.ids[i]!]!++;
        this.postExpert[at] = e;
        this.postWeight[at] = v.weights[i]!;
      }
    });

    this.eKeywords.forEach((ks, e) => {
      for (const k of ks) {
        const l = this.keywordPostings.get(k);
        if (l) l.push(e);
        else this.keywordPostings.set(k, [e]);
      }
    });
    this.pDiscipline = proposals.map((p) => (p.discipline ?? '').trim().toUpperCase());
    this.eDisciplines = experts.map((e) => (e.disciplines ?? []).map((d) => d.trim().toUpperCase()).filter(Boolean));
    this.eKeywordCount = Int32Array.from(this.eKeywords, (ks) => ks.length);
    const codeId = new Map<string, number>();
    this.eCodeStart = new Int32Array(experts.length + 1);
    const ids: number[] = [];
    this.eDisciplines.forEach((ds, e) => {
      for (const d of ds) {
        let id = codeId.get(d);
        if (id === undefined) codeId.set(d, (id = this.codes.push(d) - 1));
        ids.push(id);
      }
      this.eCodeStart[e + 1] = ids.length;
    });
    this.eCodeIds = Int32Array.from(ids);
  }

  /** The discipline component of every expert for a proposal's code: their best disciplineMatch, cached per code. */
  private disciplineRow(code: string): Float64Array {
    let row = this.disciplineRows.get(code);
    if (row) return row;
    const match = Float64Array.from(this.codes, (d) => disciplineMatch(code, d));
    const { eCodeStart, eCodeIds } = this;
    row = new Float64Array(this.experts.length);
    for (let e = 0; e < row.length; e++) {
      let best = 0;
      for (let j = eCodeStart[e]!, end = eCodeStart[e + 1]!; j < end; j++) if (match[eCodeIds[j]!]! > best) best = match[eCodeIds[j]!]!;
      row[e] = best;
    }
    this.disciplineRows.set(code, row);
    return row;
  }

  private disciplineOf(e: number, code: string): number {
    let best = 0;
    for (const d of this.eDisciplines[e]!) {
      const m = disciplineMatch(code, d);
      if (m > best) best = m;
    }
    return best;
  }

  private static combine(text: number, discipline: number, keywords: number): number {
    const a = AFFINITY_WEIGHTS.text * text + AFFINITY_WEIGHTS.discipline * discipline + AFFINITY_WEIGHTS.keywords * keywords;
    return a < 0 ? 0 : a > 1 ? 1 : a;
  }

  /** The three components and the combined affinity of expert e for proposal p. */
  explain(e: number, p: number): { text: number; discipline: number; keywords: number; affinity: number } {
    const pv = this.pVec[p]!;
    const ev = this.eVec[e]!;
    let text = 0;
    for (let i = 0, j = 0; i < pv.ids.length && j < ev.ids.length; ) {
      const a = pv.ids[i]!;
      const b = ev.ids[j]!;
      if (a === b) text += pv.weights[i++]! * ev.weights[j++]!;
      else if (a < b) i++;
      else j++;
    }
    const discipline = this.disciplineOf(e, this.pDiscipline[p]!);
    const pk = this.pKeywords[p]!;
    const keywords = jaccard(pk, this.eKeywords[e]!);
    return { text, discipline, keywords, affinity: AffinityIndex.combine(text, discipline, keywords) };
  }

  score(e: number, p: number): number {
    return this.explain(e, p).affinity;
  }

  /** Affinity of proposal p with every expert (same values as score(), summed in the same order). */
  row(p: number): Float64Array {
    const E = this.experts.length;
    const text = (this.textScratch ??= new Float64Array(E)).fill(0);
    const pv = this.pVec[p]!;
    const { postStart, postExpert, postWeight } = this;
    for (let i = 0; i < pv.ids.length; i++) {
      const w = pv.weights[i]!;
      const t = pv.ids[i]!;
      for (let j = postStart[t]!, end = postStart[t + 1]!; j < end; j++) {
        const e = postExpert[j]!;
        text[e] = text[e]! + w * postWeight[j]!;
      }
    }
    const pk = this.pKeywords[p]!;
    const inter = (this.interScratch ??= new Int32Array(E)).fill(0);
    for (const k of pk) for (const e of this.keywordPostings.get(k) ?? []) inter[e]!++;
    const code = this.pDiscipline[p]!;
    const discipline = code ? this.disciplineRow(code) : null;
    const eKeywordCount = this.eKeywordCount;
    const out = new Float64Array(E);
    for (let e = 0; e < E; e++) {
      // Jaccard; no shared keyword (always so when a side has none) is 0.
      const shared = inter[e]!;
      const kw = shared ? shared / (pk.length + eKeywordCount[e]! - shared) : 0;
      out[e] = AffinityIndex.combine(text[e]!, discipline ? discipline[e]! : 0, kw);
    }
    return out;
  }

  /** The n experts of highest affinity for proposal p, best first (ties: lower index first). Cached per proposal. */
  ranked(p: number, n: number): RankedExperts {
    const cached = this.rankedCache.get(p);
    if (cached && (cached.experts.length >= n || cached.experts.length === this.experts.length)) return cached;
    const r = topN(this.row(p), Math.max(n, cached ? 2 * cached.experts.length : 0));
    this.rankedCache.set(p, r);
    return r;
  }
}

/** The n largest entries of a score row, best first, ties by lower index. */
export function topN(row: Float64Array, n: number): RankedExperts {
  const E = row.length;
  const take = Math.min(Math.max(0, n), E);
  let idx: number[];
  if (take >= E) idx = Array.from({ length: E }, (_, i) => i);
  else {
    const threshold = kthLargest(row, take);
    idx = [];
    for (let e = 0; e < E; e++) if (row[e]! > threshold) idx.push(e);
    for (let e = 0; e < E && idx.length < take; e++) if (row[e] === threshold) idx.push(e);
  }
  idx.sort((a, b) => row[b]! - row[a]! || a - b);
  return { experts: Int32Array.from(idx), scores: Float64Array.from(idx, (e) => row[e]!) };
}

/**
 * The k-th largest value of the row (1 ≤ k < length), what sorting a copy and reading position length − k gives:
 * one pass keeping the k largest in a min-heap instead of sorting 5,000 values per proposal. A NaN (never an
 * affinity) falls back to the sort, which orders it last.
 */
export function kthLargest(row: Float64Array, k: number): number {
  const heap = row.slice(0, k);
  const down = (i: number, v: number) => {
    for (;;) {
      let c = 2 * i + 1;
      if (c >= k) break;
      if (c + 1 < k && heap[c + 1]! < heap[c]!) c++;
      if (heap[c]! >= v) break;
      heap[i] = heap[c]!;
      i = c;
    }
    heap[i] = v;
  };
  for (let i = (k >> 1) - 1; i >= 0; i--) down(i, heap[i]!);
  for (let e = 0; e < row.length; e++) {
    const v = row[e]!;
    if (v !== v) return row.slice().sort()[row.length - k]!;
    if (e >= k && v > heap[0]!) down(0, v);
  }
  return heap[0]!;
}
