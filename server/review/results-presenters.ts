/**
 * View models of the officers' review results pages: the ranking table (numbers formatted for reading), the
 * progress per expert, and one proposal's submitted reviews. Plain objects only.
 */
import type { CallFacts } from './assignment-service.js';
import { RESULT_SORTS, type ResultSort } from './results-rules.js';
import type { callResults, ProposalReviews } from './results-service.js';
import { DISAGREEMENT_THRESHOLD } from './scoring.js';

const fixed = (x: number | null, digits: number) => (x === null ? '—' : x.toFixed(digits));
/** z with an explicit sign: "+0.85", "−0.40" (a real minus sign), "0.00". */
export const signedZ = (x: number | null) => (x === null ? '—' : Math.abs(x) < 0.005 ? '0.00' : `${x > 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}`);
const pick = (lang: string, zh: string, en: string | null) => (lang === 'en' && en ? en : zh);

export function callHeader(call: CallFacts, lang: string) {
  return { id: call.id, title: pick(lang, call.titleZh, call.titleEn), status: call.status, k: call.k, threshold: DISAGREEMENT_THRESHOLD };
}

export function resultsPage(call: CallFacts, r: Awaited<ReturnType<typeof callResults>>, sort: ResultSort, lang: string, canAssign: boolean) {
  return {
    call: callHeader(call, lang),
    canAssign,
    sort,
    sorts: RESULT_SORTS.map((s) => ({ value: s, current: s === sort, href: `/calls/${call.id}/reviews${s === 'z' ? '' : `?sort=${s}`}` })),
    exportQuery: sort === 'z' ? '' : `?sort=${sort}`,
    hiddenCount: r.hiddenCount,
    total: { ...r.total, proposals: r.proposals, needed: r.proposals * call.k },
    experts: r.perExpert.map((e) => ({ ...e, institution: pick(lang, e.institution, e.institutionEn) })),
    rows: r.ranking.map((x) => ({
      rank: x.rank,
      proposalId: x.proposalId,
      href: `/calls/${call.id}/reviews/${x.proposalId}`,
      receiptNo: x.proposal.receiptNo,
      title: pick(lang, x.proposal.title, x.proposal.titleEn),
      lead: pick(lang, x.proposal.leadName, x.proposal.leadNameEn),
      provinces: x.proposal.provinces,
      reviews: x.reviews,
      incomplete: x.incomplete,
      meanScore: fixed(x.meanScore, 1),
      meanZ: signedZ(x.meanZ),
      spread: fixed(x.spread, 1),
      disagreement: x.disagreement,
      tally: x.tally,
    })),
  };
}

export function reviewsPage(call: CallFacts, r: Extract<ProposalReviews, { ok: true }>, lang: string) {
  return {
    call: callHeader(call, lang),
    proposal: { ...r.proposal, title: pick(lang, r.proposal.title, r.proposal.titleEn), lead: pick(lang, r.proposal.leadName, r.proposal.leadNameEn) },
    summary: { rank: r.row.rank, reviews: r.row.reviews, incomplete: r.row.incomplete, outstanding: r.outstanding, meanScore: fixed(r.row.meanScore, 1), meanZ: signedZ(r.row.meanZ), spread: fixed(r.row.spread, 1), disagreement: r.row.disagreement, tally: r.row.tally },
    reviews: r.reviews.map((v, i) => ({
      n: i + 1,
      expertName: v.expertName,
      institution: pick(lang, v.institution, v.institutionEn),
      scores: v.scores.map((s) => ({ name: pick(lang, s.criterion.nameZh, s.criterion.nameEn), weight: s.criterion.weight, scaleMax: s.criterion.scaleMax, score: s.score ?? '—' })),
      weighted: fixed(v.weighted, 1),
      z: signedZ(v.z),
      recommendation: v.recommendation,
      commentsToApplicant: v.commentsToApplicant ?? '',
      confidentialComments: v.confidentialComments ?? '',
      submittedAt: v.submittedAt,
    })),
  };
}
