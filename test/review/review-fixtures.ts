/** Fixtures of the review tests: an eligible proposal with criteria, two experts with accepted assignments. */
import { User, UserRole } from '../../server/people/models.js';
import { roleScopeKey } from '../../server/people/rules.js';
import { Review, ReviewAssignment, type AssignmentStatus } from '../../server/review/review-models.js';
import { CallCriterion } from '../../server/calls/models.js';
import { makeCompleteDraft } from '../proposals/helpers.js';
import { makeUser, passwordHash } from '../support/factories.js';
import type { Agent } from '../support/agent.js';

export const DAY = 24 * 3600_000;

/** An expert with a recognisable name, e-mail and (optionally) a fixed, unusual id. */
export async function makeExpert(name: string, email: string, id?: number) {
  const user = await User.create({ ...(id ? { id } : {}), email, name, passwordHash: await passwordHash(), institutionId: null, lang: 'zh-CN', emailVerifiedAt: new Date(), disabledAt: null });
  await UserRole.create({ userId: user.id, role: 'expert', provinceCode: null, institutionId: null, scopeKey: roleScopeKey({ role: 'expert' }), grantedBy: null });
  return user;
}

export async function assign(callId: number, proposalId: number, expertUserId: number, status: AssignmentStatus = 'accepted') {
  return ReviewAssignment.create({ callId, proposalId, expertUserId, status, createdBy: null, invitedAt: new Date(), respondedAt: status === 'accepted' ? new Date() : null });
}

export async function reviewWorld(o: { reviewDueAt?: Date } = {}) {
  const d = await makeCompleteDraft({ call: { reviewDueAt: o.reviewDueAt ?? new Date(Date.now() + 10 * DAY) } });
  await d.proposal.update({ status: 'eligible', submittedAt: new Date(), receiptNo: `YRD-T-${d.proposal.id}` });
  const criteria = await CallCriterion.findAll({ where: { callId: d.call.id }, order: [['sortOrder', 'ASC']] });
  const expertA = await makeExpert('评审专家甲乙丙', 'expert.alpha@example.org', 987_654);
  const expertB = await makeExpert('评审专家丁戊己', 'expert.beta@example.org', 876_543);
  const officer = await makeUser({ email: 'officer.review@example.org', roles: [{ role: 'officer', provinceCode: 'SH' }] });
  const aA = await assign(d.call.id, d.proposal.id, expertA.id);
  return { ...d, criteria, expertA, expertB, officer, aA };
}

/** The hidden version of the review form on the page. */
export function versionOn(html: string): string {
  const m = /name="version" value="(\d+)"/.exec(html);
  if (!m) throw new Error(`no version field: ${html.slice(0, 300)}`);
  return m[1]!;
}

export function csrfOn(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token');
  return m[1]!;
}

/** Open the review page (a "tab"): its CSRF token and version. */
export async function openTab(agent: Agent, assignmentId: number) {
  const res = await agent.get(`/reviews/${assignmentId}`);
  if (res.status !== 200) throw new Error(`review page ${res.status}: ${res.text.slice(0, 300)}`);
  return { csrf: csrfOn(res.text), version: versionOn(res.text), html: res.text };
}

export async function reviewOf(assignmentId: number) {
  return (await Review.findOne({ where: { assignmentId } }))!;
}
