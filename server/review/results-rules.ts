/**
 * The joint ranking of a call's review results, pure (no express/sequelize): from the submitted reviews'
 * weighted scores (0–100), per proposal the number of reviews against k, mean score, mean z-score (each
 * reviewer normalised over their own reviews in the call, scoring.ts), spread, disagreement flag and the
 * recommendation tally; complete proposals (k reviews) first, then by mean z (default) or mean raw score, ties
 * sharing a rank. Drafts never
 * reach this file: the service passes submitted reviews only.
 */
import { DISAGREEMENT_THRESHOLD, disagreement, zScores } from './scoring.js';

export const RESULT_SORTS = ['z', 'score'] as const;
export type ResultSort = (typeof RESULT_SORTS)[number];

export const TALLY_KEYS = ['fund', 'fund_with_changes', 'reject'] as const;
export type TallyKey = (typeof TALLY_KEYS)[number];

export interface SubmittedScore {
  reviewId: number;
  reviewerId: number;
  proposalId: number;
  /** Weighted score on the 0–100 scale. */
  score: number;
  recommendation: TallyKey | null;
}

export interface RankedProposal {
  proposalId: number;
  /** 1-based; proposals with equal sort keys share a rank ("1, 2, 2, 4"). */
  rank: number;
  reviews: number;
  /** Fewer than k submitted reviews. */
  incomplete: boolean;
  /** Null while the proposal has no submitted review. */
  meanScore: number | null;
  meanZ: number | null;
  /** max − min of the reviewers' weighted scores; 0 with one review, null with none. */
  spread: number | null;
  disagreement: boolean;
  tally: Record<TallyKey, number>;
}

export interface RankingInput {
  /** Every proposal under review, reviewed or not. */
  proposalIds: number[];
  reviews: SubmittedScore[];
  k: number;
  sort?: ResultSort;
  threshold?: number;
}

const EPS = 1e-9;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** z of each review by review id, normalised per reviewer over the reviews given. */
export function zByReview(reviews: SubmittedScore[]): Map<number, number> {
  const z = zScores(reviews);
  return new Map(reviews.map((r, i) => [r.reviewId, z[i]!]));
}

/**
 * Compare two rows for the chosen order: proposals with all k reviews before those still short of reviews (a
 * mean over one review must not outrank a panel's), then key desc, the other key desc, then proposal id;
 * unreviewed last.
 */
function compare(sort: ResultSort) {
  const keys = (r: RankedProposal) => (sort === 'z' ? [r.meanZ, r.meanScore] : [r.meanScore, r.meanZ]);
  return (a: RankedProposal, b: RankedProposal) => {
    if (a.incomplete !== b.incomplete) return a.incomplete ? 1 : -1;
    const [a1, a2] = keys(a);
    const [b1, b2] = keys(b);
    if (a1 === null || b1 === null) return a1 === b1 ? a.proposalId - b.proposalId : a1 === null ? 1 : -1;
    if (Math.abs(a1 - b1) > EPS) return b1 - a1;
    if (Math.abs(a2! - b2!) > EPS) return b2! - a2!;
    return a.proposalId - b.proposalId;
  };
}

/** Both sort keys equal (within float noise): the rows share a rank. */
function tied(a: RankedProposal, b: RankedProposal): boolean {
  const eq = (x: number | null, y: number | null) => (x === null || y === null ? x === y : Math.abs(x - y) <= EPS);
  return a.incomplete === b.incomplete && eq(a.meanZ, b.meanZ) && eq(a.meanScore, b.meanScore);
}

/** Competition ranks ("1, 2, 2, 4") over rows already in order; ties are rows equal on both keys. */
export function assignRanks(rows: RankedProposal[]): RankedProposal[] {
  const out: RankedProposal[] = [];
  rows.forEach((r, i) => {
    const prev = out[i - 1];
    out.push({ ...r, rank: prev && tied(prev, r) ? prev.rank : i + 1 });
  });
  return out;
}

export function rankProposals(input: RankingInput): RankedProposal[] {
  const sort = input.sort ?? 'z';
  const threshold = input.threshold ?? DISAGREEMENT_THRESHOLD;
  const wanted = new Set(input.proposalIds);
  const reviews = input.reviews.filter((r) => wanted.has(r.proposalId));
  const z = zByReview(reviews);
  const by = new Map<number, SubmittedScore[]>(input.proposalIds.map((id) => [id, []]));
  for (const r of reviews) by.get(r.proposalId)!.push(r);
  const rows: RankedProposal[] = [...by.entries()].map(([proposalId, rs]) => {
    const scores = rs.map((r) => r.score);
    const tally = { fund: 0, fund_with_changes: 0, reject: 0 };
    for (const r of rs) if (r.recommendation) tally[r.recommendation]++;
    return {
      proposalId,
      rank: 0,
      reviews: rs.length,
      incomplete: rs.length < input.k,
      meanScore: rs.length ? mean(scores) : null,
      meanZ: rs.length ? mean(rs.map((r) => z.get(r.reviewId)!)) : null,
      spread: rs.length ? Math.max(...scores) - Math.min(...scores) : null,
      disagreement: disagreement(scores, threshold),
      tally,
    };
  });
  return assignRanks(rows.sort(compare(sort)));
}

/**
 * The ranking a viewer sees: proposals they are conflicted with are left out, and the ranks are counted again
 * over what remains, so neither the row nor a gap in the ranks tells where the hidden proposal stands.
 */
export function visibleRanking(rows: RankedProposal[], hidden: ReadonlySet<number>): RankedProposal[] {
  if (!hidden.size) return rows;
  return assignRanks(rows.filter((r) => !hidden.has(r.proposalId)));
}

/** Review progress of a call from its assignments (withdrawn ones excluded by the caller). */
export interface AssignmentState {
  expertUserId: number;
  proposalId: number;
  status: string;
  /** 'none' | 'draft' | 'submitted' */
  review: string;
}

export interface ProgressCount {
  invited: number;
  accepted: number;
  declined: number;
  submitted: number;
  drafts: number;
  outstanding: number;
}

const emptyCount = (): ProgressCount => ({ invited: 0, accepted: 0, declined: 0, submitted: 0, drafts: 0, outstanding: 0 });

function add(c: ProgressCount, a: AssignmentState): void {
  if (a.status === 'invited') c.invited++;
  if (a.status === 'declined') c.declined++;
  if (a.status !== 'accepted') return;
  c.accepted++;
  if (a.review === 'submitted') c.submitted++;
  else {
    c.outstanding++;
    if (a.review === 'draft') c.drafts++;
  }
}

/** Totals and per expert: invitations awaiting an answer, accepted, declined, submitted, drafts, outstanding. */
export function reviewProgress(rows: AssignmentState[]): { total: ProgressCount; perExpert: Map<number, ProgressCount> } {
  const total = emptyCount();
  const perExpert = new Map<number, ProgressCount>();
  for (const a of rows) {
    add(total, a);
    const c = perExpert.get(a.expertUserId) ?? emptyCount();
    add(c, a);
    perExpert.set(a.expertUserId, c);
  }
  return { total, perExpert };
}

/** What makes a viewer conflicted with a proposal: they are in its consortium or review it. */
export interface ProposalTies {
  proposalId: number;
  piUserId: number;
  contactUserIds: number[];
  institutionIds: number[];
  /** Experts with a (non-withdrawn) assignment on the proposal. */
  expertUserIds: number[];
}

/**
 * Proposals whose results the viewer may not see (回避): they are its PI or a partner's contact, work at one of
 * its institutions, or are assigned to review it. Counts and averages would tell them about their own reviewers.
 */
export function conflictedProposals(viewer: { id: number; institutionId: number | null }, ties: ProposalTies[]): Set<number> {
  const out = new Set<number>();
  for (const p of ties) {
    if (p.piUserId === viewer.id || p.contactUserIds.includes(viewer.id) || p.expertUserIds.includes(viewer.id) || (viewer.institutionId !== null && p.institutionIds.includes(viewer.institutionId))) {
      out.add(p.proposalId);
    }
  }
  return out;
}
