/**
 * Scoring of reviews, pure (no express/sequelize): a review's weighted score on a 0–100 scale, each reviewer's
 * scores normalised to z-scores across their own reviews (so a harsh and a lenient expert become comparable),
 * and a disagreement flag when a proposal's reviewers are too far apart.
 */

export interface CriterionFacts {
  id: number;
  /** Weight in percent; the weights of a call need not sum to exactly 100 (they are renormalised). */
  weight: number;
  /** Scores run 1..scaleMax. */
  scaleMax: number;
}

export type Scores = Record<string, number>;

/** Parse the stored `{criterionId: score}` JSON, dropping anything that is not an integer score. */
export function parseScores(json: string | null | undefined): Scores {
  try {
    const raw: unknown = JSON.parse(json ?? '{}');
    const out: Scores = {};
    if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) if (/^\d+$/.test(k) && Number.isInteger(v)) out[k] = v as number;
    }
    return out;
  } catch {
    return {};
  }
}

/** Criteria of the call still without a valid score (1..scaleMax). */
export function missingCriteria(scores: Scores, criteria: CriterionFacts[]): number[] {
  return criteria.filter((c) => {
    const s = scores[String(c.id)];
    return s === undefined || !Number.isInteger(s) || s < 1 || s > c.scaleMax;
  }).map((c) => c.id);
}

/**
 * Weighted score in [0, 100]: Σ weight·(score/scaleMax) / Σ weight · 100. Null when a criterion is unscored
 * or the weights are all zero.
 */
export function weightedScore(scores: Scores, criteria: CriterionFacts[]): number | null {
  if (criteria.length === 0 || missingCriteria(scores, criteria).length) return null;
  let sumW = 0;
  let acc = 0;
  for (const c of criteria) {
    const w = Math.max(0, c.weight);
    sumW += w;
    acc += w * (scores[String(c.id)]! / c.scaleMax);
  }
  return sumW > 0 ? (acc / sumW) * 100 : null;
}

export interface ReviewScore {
  reviewerId: number;
  proposalId: number;
  score: number;
}

/**
 * Per reviewer: z = (score − mean) / sd over that reviewer's own reviews (population sd). A reviewer with one
 * review, or with identical scores everywhere, carries no information about spread: z = 0.
 * Returns the z-score of each input, in input order.
 */
export function zScores(reviews: ReviewScore[]): number[] {
  const byReviewer = new Map<number, number[]>();
  for (const r of reviews) {
    const list = byReviewer.get(r.reviewerId) ?? [];
    list.push(r.score);
    byReviewer.set(r.reviewerId, list);
  }
  const stats = new Map<number, { mean: number; sd: number }>();
  for (const [id, xs] of byReviewer) {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    stats.set(id, { mean, sd: Math.sqrt(variance) });
  }
  return reviews.map((r) => {
    const s = stats.get(r.reviewerId)!;
    return s.sd > 1e-9 ? (r.score - s.mean) / s.sd : 0;
  });
}

/** Default: reviewers more than 25 points apart (on the 0–100 weighted scale) disagree. */
export const DISAGREEMENT_THRESHOLD = 25;

/** True when the spread (max − min) of the proposal's reviewer scores exceeds the threshold. */
export function disagreement(scores: number[], threshold = DISAGREEMENT_THRESHOLD): boolean {
  if (scores.length < 2) return false;
  return Math.max(...scores) - Math.min(...scores) > threshold;
}

export interface ProposalScoreSummary {
  proposalId: number;
  reviews: number;
  meanScore: number;
  meanZ: number;
  disagreement: boolean;
}

/** Per proposal: mean weighted score, mean normalised (z) score and the disagreement flag, best meanZ first. */
export function summariseProposals(reviews: ReviewScore[], threshold = DISAGREEMENT_THRESHOLD): ProposalScoreSummary[] {
  const z = zScores(reviews);
  const by = new Map<number, { scores: number[]; zs: number[] }>();
  reviews.forEach((r, i) => {
    const e = by.get(r.proposalId) ?? { scores: [], zs: [] };
    e.scores.push(r.score);
    e.zs.push(z[i]!);
    by.set(r.proposalId, e);
  });
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return [...by.entries()]
    .map(([proposalId, e]) => ({ proposalId, reviews: e.scores.length, meanScore: mean(e.scores), meanZ: mean(e.zs), disagreement: disagreement(e.scores, threshold) }))
    .sort((a, b) => b.meanZ - a.meanZ || a.proposalId - b.proposalId);
}
