/**
 * Issue 4 end to end, in a real browser and only through the pages: officer.sh runs the reviewer assignment of the
 * demo call, sees the proposed experts with their affinities, (pins expert@demo.yrd to a proposal if the run did not
 * choose them), sends the invitations; expert@demo.yrd receives the invitation mail (delivered to a real SMTP peer),
 * accepts it on /reviews, scores every criterion, writes both comments, recommends and submits; the review is then
 * shown read-only. axe runs on the assignment page, /reviews and the review form; every step fails on a console
 * error or a CSP violation. Then an officer of the call opens the review results from the call page, finds the
 * proposal in the joint ranking with the expert's weighted score, and reads the review with the expert's name. Setup only: the demo call is put into review directly through the models (closing a
 * call is another issue's page), and put back afterwards so the other browser tests see the demo as seeded.
 * The steps share the call and the assignment, so they run in order.
 */
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { Call } from '../../server/calls/models.js';
import { User } from '../../server/people/models.js';
import { Proposal, ProposalPartner } from '../../server/proposals/models.js';
import { ReviewAssignment } from '../../server/review/review-models.js';
import { criteriaOf } from '../../server/review/review-service.js';
import { weightedScore } from '../../server/review/scoring.js';
import {
  clickToLoad as click,
  expectAccessible as axe,
  expectCleanConsole,
  field as labelled,
  harness,
  screenshot,
  openAsDemoUser,
  waitForFlash,
  t as tr,
  waitForMail as mailTo,
  type Session,
} from '../support/browser.js';

type Lang = 'zh-CN' | 'en';
const DAY = 24 * 3600_000;
const EXPERT = 'expert@demo.yrd';

// Shared by the steps, in order.
let callId = 0;
let callTitle = '';
let expertId = 0;
let assignmentId = 0;
let proposalTitle = '';
let restore: { status: Call['status']; reviewDueAt: Date | null } | null = null;

describe('browser: reviewer assignment, invitation and a submitted review (issue 4)', function () {
  let session: Session | undefined;
  let lang: Lang = 'zh-CN';
  const t = (key: string, vars: Record<string, string> = {}) => tr(lang, key, vars);

  before(async function () {
    this.timeout(120_000);
    await harness();
    // Setup, not behaviour under test: the demo call (the one with eligible proposals) goes into review.
    const eligible = await Proposal.findOne({ where: { status: 'eligible' }, attributes: ['callId'], raw: true });
    expect(eligible, 'the demo seed has eligible proposals').to.not.equal(null);
    const call = (await Call.findByPk(eligible!.callId))!;
    restore = { status: call.status, reviewDueAt: call.reviewDueAt };
    await call.update({ status: 'in_review', reviewDueAt: new Date(Date.now() + 10 * DAY) });
    callId = call.id;
    callTitle = call.titleZh;
    expertId = (await User.findOne({ where: { email: EXPERT }, attributes: ['id'], raw: true }))!.id;
  });

  after(async () => {
    if (restore && callId) await Call.update(restore, { where: { id: callId } });
  });

  afterEach(async () => {
    await session?.close();
    session = undefined;
  });

  async function signIn(email: string): Promise<Page> {
    const opened = await openAsDemoUser(email);
    session = opened.session;
    lang = opened.lang;
    return opened.page;
  }

  const pathOf = (page: Page) => new URL(page.url()).pathname;
  const clean = (where: string) => expectCleanConsole(session!, where);
  const shot = (page: Page, name: string) => screenshot(page, 'review-flow', name);
  const button = (page: Page, key: string, vars: Record<string, string> = {}) => page.getByRole('button', { name: t(key, vars), exact: true });

  const flash = (page: Page, key: string, params: Record<string, string> = {}) => waitForFlash(page, t(key, params));

  /** expert@demo.yrd's rows of the call (read back from the database, since the page lists proposals a page at a time). */
  const expertRows = () => ReviewAssignment.findAll({ where: { callId, expertUserId: expertId }, raw: true });

  it('officer.sh runs the assignment, sees the experts with affinities, and invites them', async () => {
    const page = await signIn('officer.sh@demo.yrd');
    await page.goto(session!.url(`/calls/${callId}/assignment`));
    expect(await page.locator('h1').innerText()).to.contain(t('assignment:page.title'));
    expect(await page.locator('article.assignment-proposal').count(), 'the eligible proposals are listed').to.be.above(0);
    expect(await page.locator('article.assignment-proposal tbody tr').count(), 'nothing proposed before the first run').to.equal(0);
    await axe(page, 'the assignment page (before the run)');

    await click(page, button(page, 'assignment:page.run'));
    await page.locator('.flash-success').first().waitFor({ state: 'visible' });
    const rows = page.locator('article.assignment-proposal tbody tr');
    expect(await rows.count(), 'experts proposed').to.be.above(0);
    // Each proposed expert shows an affinity percentage and the "proposed" status.
    const first = await rows.first().locator('td').allInnerTexts();
    expect(first[3]).to.match(/^\d+(\.\d+)?%$/);
    expect(first[4]).to.equal(t('assignment:status.proposed'));
    await shot(page, '01-assignment-run');

    if ((await expertRows()).length === 0) {
      // The run did not choose expert@demo.yrd: pin them to a proposal (with a reason) and run again.
      const proposalId = Number(await page.locator('#f-proposalId option').first().getAttribute('value'));
      const form = page.locator('form.constraint-form');
      await labelled(form, t('assignment:form.proposal')).selectOption(String(proposalId));
      await labelled(form, t('assignment:form.expertUserId')).fill(String(expertId));
      await labelled(form, t('assignment:form.reason')).fill('该专家研究方向与本项目高度相关。');
      await click(page, form.getByRole('button', { name: t('assignment:page.pin'), exact: true }));
      await flash(page, 'assignment:flash.pinned');
      expect(await page.locator('form.constraint-form + table tbody tr', { hasText: `#${expertId}` }).locator('td').first().innerText(), 'the pin is listed').to.equal(t('assignment:kind.pin'));
      await click(page, button(page, 'assignment:page.run'));
      await page.locator('.flash-success').first().waitFor({ state: 'visible' });
      const pinned = page.locator(`#p-${proposalId} tbody tr`, { hasText: `#${expertId}` });
      expect(await pinned.locator('.badge').innerText(), 'the pinned expert is proposed').to.equal(t('assignment:page.pinned'));
    }
    const mine = await expertRows();
    expect(mine.length, 'expert@demo.yrd is proposed for a proposal').to.be.above(0);
    expect(mine.every((r) => r.status === 'proposed')).to.equal(true);
    await axe(page, 'the assignment page (after the run)');

    await click(page, page.locator('form[action$="/assignment/invite"] button'));
    await page.locator('.flash-success').first().waitFor({ state: 'visible' });
    expect(await page.locator('article.assignment-proposal tbody tr', { hasText: t('assignment:status.proposed') }).count(), 'nothing left to invite').to.equal(0);
    expect(await page.locator('article.assignment-proposal tbody tr', { hasText: t('assignment:status.invited') }).count()).to.be.above(0);
    const invited = await expertRows();
    expect(invited.every((r) => r.status === 'invited')).to.equal(true);
    assignmentId = invited[0]!.id;
    proposalTitle = (await Proposal.findByPk(invited[0]!.proposalId, { attributes: ['title'], raw: true }))!.title;
    await shot(page, '02-invited');
    clean('the assignment page');
  });

  it('expert@demo.yrd receives the invitation mail, accepts on /reviews, scores and submits; the review is read-only', async () => {
    expect(assignmentId, 'the invitation of the previous step').to.be.above(0);
    const mail = await mailTo(EXPERT, (m) => m.subject === tr('zh-CN', 'mail:review-invitation.subject', { call: callTitle }));
    expect(mail.text).to.contain(proposalTitle).and.contain('/reviews');

    const page = await signIn(EXPERT);
    await page.goto(session!.url('/reviews'));
    const invitedSection = page.locator('section[aria-labelledby="rv-invited-h"]');
    const row = invitedSection.locator('tr', { hasText: proposalTitle });
    expect(await row.count(), 'the invitation is listed').to.equal(1);
    expect(await row.getByRole('link').count(), 'not readable before accepting').to.equal(0);
    await axe(page, '/reviews (invited)');
    await click(page, row.getByRole('button', { name: t('reviews:list.accept'), exact: true }));
    await flash(page, 'assignment:flash.accepted');
    expect(pathOf(page)).to.equal('/reviews');
    const accepted = page.locator('section[aria-labelledby="rv-accepted-h"] tr', { hasText: proposalTitle });
    expect(await accepted.locator('.tag').innerText()).to.equal(t('reviews:reviewStatus.none'));
    await axe(page, '/reviews (accepted)');

    await click(page, accepted.getByRole('link', { name: t('reviews:list.open'), exact: true }));
    expect(pathOf(page)).to.equal(`/reviews/${assignmentId}`);
    expect(await page.locator('#rv-proposal-h').innerText()).to.contain(proposalTitle);
    await axe(page, 'the review form');

    const scores = page.locator('fieldset select');
    const n = await scores.count();
    expect(n, 'one score per criterion').to.be.above(0);
    for (let i = 0; i < n; i++) {
      await scores.nth(i).selectOption(String(7 + (i % 3)));
    }
    await labelled(page, t('reviews:form.commentsToApplicant')).fill('研究目标明确，技术路线可行；建议细化示范应用的考核指标。');
    await labelled(page, t('reviews:form.confidentialComments')).fill('团队实力较强，建议资助。');
    await labelled(page, t('reviews:form.recommendation')).selectOption({ label: t('reviews:recommendations.fund') });
    await shot(page, '03-review-filled');
    await click(page, button(page, 'reviews:form.submit'));
    await flash(page, 'reviews:form.submitted');
    expect(pathOf(page)).to.equal('/reviews');
    const done = page.locator('section[aria-labelledby="rv-accepted-h"] tr', { hasText: proposalTitle });
    expect(await done.locator('.tag').innerText()).to.equal(t('reviews:reviewStatus.submitted'));

    await click(page, done.getByRole('link', { name: t('reviews:list.view'), exact: true }));
    expect(pathOf(page)).to.equal(`/reviews/${assignmentId}`);
    expect(await page.locator('main').innerText()).to.contain(t('reviews:form.readOnly'));
    expect(await page.locator('main form[action^="/reviews/"]').count(), 'no form any more').to.equal(0);
    const readOnly = await page.locator('dl.review-readonly').innerText();
    expect(readOnly).to.contain('研究目标明确').and.contain('团队实力较强').and.contain(t('reviews:recommendations.fund'));
    expect(await page.locator('dl.review-readonly dd', { hasText: / \/ \d+$/ }).count(), 'every score shown').to.equal(n);
    await axe(page, 'the submitted review');
    await shot(page, '04-review-submitted');
    clean('the review pages');
  });

  it("an officer of the call opens the review results from the call page and finds the expert's score and review", async () => {
    expect(assignmentId, 'the submitted review of the previous step').to.be.above(0);
    const a = (await ReviewAssignment.findByPk(assignmentId, { raw: true }))!;
    // An officer not conflicted with the proposal (the demo officers work at universities that also apply).
    const consortium = new Set((await ProposalPartner.findAll({ where: { proposalId: a.proposalId }, attributes: ['institutionId'], raw: true })).map((p) => p.institutionId));
    const officers = await User.findAll({ where: { email: ['officer.sh@demo.yrd', 'officer.js@demo.yrd', 'officer.zj@demo.yrd', 'officer.ah@demo.yrd'] }, order: [['email', 'DESC']], raw: true });
    const officer = officers.find((o) => o.institutionId === null || !consortium.has(o.institutionId));
    expect(officer, 'a demo officer outside the consortium').to.not.equal(undefined);
    const criteria = await criteriaOf(callId);
    const expected = weightedScore(Object.fromEntries(criteria.map((c, i) => [String(c.id), 7 + (i % 3)])), criteria)!.toFixed(1);

    const page = await signIn(officer!.email);
    await page.goto(session!.url(`/calls/${callId}`));
    await click(page, page.getByRole('link', { name: t('calls:show.reviewResults'), exact: true }));
    expect(pathOf(page)).to.equal(`/calls/${callId}/reviews`);
    expect(await page.locator('h1').innerText()).to.contain(t('reviews:results.title'));
    const row = page.locator(`tr[data-proposal-id="${a.proposalId}"]`);
    expect(await row.count(), 'the proposal is in the ranking').to.equal(1);
    expect(await row.locator('td.mean-score').innerText(), "the expert's weighted score").to.equal(expected);
    await axe(page, 'the review results');
    await shot(page, '05-results');

    await click(page, row.getByRole('link'));
    expect(pathOf(page)).to.equal(`/calls/${callId}/reviews/${a.proposalId}`);
    const review = page.locator('section.review-result', { hasText: '王芳（评审专家）' });
    expect(await review.count(), "the expert's review, with their name").to.equal(1);
    expect(await review.locator('dd.weighted').innerText()).to.equal(expected);
    expect(await review.locator('dd.confidential').innerText()).to.contain('团队实力较强');
    await axe(page, "a proposal's reviews");
    await shot(page, '06-proposal-reviews');
    clean('the review results pages');
  });
});
