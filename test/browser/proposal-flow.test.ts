/**
 * Issue 3 end to end, in a real browser and only through the pages: an officer drafts and publishes a call (the
 * other province's officer enters their pledge), a PI builds a two-province consortium, uploads a PDF, fixes a
 * checklist failure, the partner's contact confirms their budget, the PI submits and receives the receipt mail
 * (delivered to a real SMTP peer), the host institution endorses, the officer screens it and the PI sees the
 * result. axe runs on the call editor, every editor step, the partner page and the screening detail; every
 * step fails on a console error or a CSP violation. Screenshots of the key steps go to test-results/.
 * The steps share the call and the proposal, so they run in order.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { ROOT } from '../../server/config.js';
import { PROVINCES } from '../../server/seed/demo.js';
import {
  clickToLoad as click,
  expectAccessible as axe,
  expectCleanConsole,
  field as labelled,
  harness,
  screenshot,
  shanghaiLocal,
  openAsDemoUser,
  waitForFlash,
  t as tr,
  waitForMail as mailTo,
  type Session,
} from '../support/browser.js';
import { addCriterion, addKind, addTopic, budgetGrid, createCall, kindsOnPage, pledge } from './proposal-flow.pages.js';

type Lang = 'zh-CN' | 'en';

const PDF = readFileSync(path.join(ROOT, 'test', 'browser', 'fixtures', 'proposal.pdf'));
const PDF_NAME = '申报书正文（浏览器测试）.pdf';

const STAMP = Date.now().toString(36);
const CALL_TITLE = `长三角联合攻关浏览器测试指南 ${STAMP}`;
const CALL_TITLE_EN = `YRD joint research call, browser test ${STAMP}`;
const PROPOSAL_TITLE = `长三角城市群大气污染协同治理关键技术 ${STAMP}`;
const SHORT_ABSTRACT = '研究长三角大气污染的协同治理。';
const FULL_ABSTRACT =
  '本项目面向长三角城市群大气复合污染的跨区域协同治理需求，联合上海、江苏两地优势单位，建立区域排放清单与源解析方法，' +
  '研发多尺度空气质量预报与联防联控决策支持平台，并在重点城市开展示范应用。';

const DAY = 24 * 3600_000;

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Shared by the steps, in order.
let callId = 0;
let proposalId = 0;
let receiptNo = '';

describe('browser: a joint proposal from call to screening (issue 3)', function () {
  let session: Session | undefined;
  let lang: Lang = 'zh-CN';
  const t = (key: string, vars: Record<string, string> = {}) => tr(lang, key, vars);

  before(async function () {
    this.timeout(120_000);
    await harness();
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
  const province = (code: string) => {
    const p = PROVINCES.find((x) => x.code === code)!;
    return lang === 'en' ? p.nameEn : p.nameZh;
  };

  const flash = (page: Page, key: string, params: Record<string, string> = {}) => waitForFlash(page, t(key, params));

  const clean = (where: string) => expectCleanConsole(session!, where);
  /** A link of the header navigation, by its locale key. */
  const nav = (page: Page, key: string) => page.getByRole('navigation', { name: t('common:nav.label') }).getByRole('link', { name: t(key), exact: true });

  const shot = (page: Page, name: string) => screenshot(page, 'proposal-flow', name);

  const editorStep = (page: Page, step: string) => click(page, page.locator('nav.proposal-steps').getByRole('link', { name: new RegExp(escapeRe(t(`proposals:steps.${step}`))) }));
  const checkItem = (page: Page, message: string) => page.locator('section.checklist li', { hasText: message });

  it('officer.sh drafts a call, is told what blocks publishing, completes it and enters the Shanghai pledge', async () => {
    const page = await signIn('officer.sh@demo.yrd');
    await click(page, nav(page, 'common:nav.calls'));
    await click(page, page.getByRole('link', { name: t('calls:list.new'), exact: true }));
    expect(pathOf(page)).to.equal('/calls/new');

    const now = Date.now();
    await createCall(page, t, {
      programme: ['长三角科技创新共同体联合攻关计划（浏览器测试）', 'YRD Joint Research Programme (browser test)'],
      title: [CALL_TITLE, CALL_TITLE_EN],
      body: ['一、支持方向\n面向长三角区域共性技术难题开展联合攻关。\n\n二、申报要求\n须由至少两个省市的单位联合申报。', 'Joint research on shared challenges of the Yangtze River Delta.'],
      opensAt: new Date(now - DAY),
      deadlineAt: new Date(now + 3 * DAY), // a few days ahead
      endorsementDeadlineAt: new Date(now + 5 * DAY),
      reviewDueAt: new Date(now + 20 * DAY),
      decisionAt: new Date(now + 40 * DAY),
    });
    await flash(page, 'calls:flash.created');
    const m = /^\/calls\/(\d+)\/edit$/.exec(pathOf(page));
    expect(m, `editor of the new call, not ${page.url()}`).to.not.equal(null);
    callId = Number(m![1]);
    expect(await page.locator('h1').innerText()).to.equal(CALL_TITLE);
    // The dates come back as typed (Asia/Shanghai wall time), the endorsement box stays ticked.
    expect(await labelled(page, t('calls:fields.deadlineAt')).inputValue()).to.equal(shanghaiLocal(new Date(now + 3 * DAY)));
    expect(await labelled(page, t('calls:fields.endorsementRequired')).isChecked()).to.equal(true);

    // Publishing too early is refused, and the page says what is missing.
    const publish = page.locator('section.lifecycle').getByRole('button', { name: t('calls:transition.to.published'), exact: true });
    await click(page, publish);
    expect(session!.dialogs).to.deep.equal([t('calls:transition.confirm.published')]);
    expect(await page.locator('.publish-checklist [role="alert"]').innerText()).to.contain(t('calls:publish.refused'));
    const problems = () => page.locator('.publish-checklist li[data-problem]').evaluateAll((els) => els.map((e) => e.getAttribute('data-problem')));
    expect(await problems()).to.deep.equal(['noTopics', 'noCriteria', 'noPledges']);
    expect(await page.locator('.call-status').getAttribute('data-status')).to.equal('draft');

    // Two topics.
    await addTopic(page, t, 'T01', '区域大气污染协同治理', 'Regional air pollution control');
    await flash(page, 'calls:flash.saved');
    await addTopic(page, t, 'T02', '长江生态环境保护修复', 'Yangtze ecological restoration');
    await flash(page, 'calls:flash.saved');
    expect(await page.locator('section#topics ol.row-list > li').count()).to.equal(2);

    // Criteria: 60 + 40. After the first one the sum is flagged.
    await addCriterion(page, t, '创新性与科学价值', 'Innovation', 60);
    await flash(page, 'calls:flash.saved');
    expect(await page.locator('section#criteria .weight-sum').innerText()).to.equal(t('calls:criteria.sum', { sum: '60' }));
    expect(await page.locator('section#criteria .weight-sum').getAttribute('class')).to.contain('field-error');
    expect(await problems()).to.include('weightsNot100');
    await addCriterion(page, t, '可行性与协同基础', 'Feasibility', 40);
    await flash(page, 'calls:flash.saved');
    expect(await page.locator('section#criteria .weight-sum').getAttribute('class')).to.not.contain('field-error');

    // Only the proposal document stays required: the consortium agreement is removed and added back as optional.
    const kinds = page.locator('section#kinds');
    await click(page, kinds.getByRole('button', { name: t('calls:editor.removeNamed', { name: '联合申报协议' }), exact: true }));
    expect(session!.dialogs.at(-1)).to.equal(t('calls:editor.confirmRemove'));
    await flash(page, 'calls:flash.removed');
    await addKind(page, t, { code: 'agreement', nameZh: '联合申报协议', nameEn: 'Consortium agreement', maxMb: 10, types: ['pdf'], required: false });
    await flash(page, 'calls:flash.saved');
    const kindRows = await kindsOnPage(page, t);
    expect(kindRows.filter((k) => k.required).map((k) => k.code)).to.deep.equal(['application']);
    expect(kindRows.map((k) => k.code)).to.include('agreement');

    // The Shanghai pledge; the Jiangsu one is not this officer's to enter.
    expect(await pledge(page, t, 'JS', province('JS')).input.count()).to.equal(0);
    await pledge(page, t, 'SH', province('SH')).input.fill('5,000,000');
    await click(page, pledge(page, t, 'SH', province('SH')).save);
    await flash(page, 'calls:flash.pledgeSaved');
    expect(await page.locator('section#pledges tr[data-province="SH"] td.num').first().innerText()).to.equal('5,000,000.00');
    expect(await problems()).to.deep.equal([]);
    expect(await page.locator('section.publish-checklist').innerText()).to.contain(t('calls:publish.ready'));

    await axe(page, `/calls/${callId}/edit (draft, complete)`);
    await shot(page, '01-call-editor-draft');
    clean('the call editor');
  });

  it('officer.js finds the draft and enters the Jiangsu pledge; officer.sh publishes the call', async () => {
    expect(callId, 'the call of the previous step').to.be.above(0);
    let page = await signIn('officer.js@demo.yrd');
    await page.goto(session!.url('/calls'));
    // officer.js may read the platform in English (the a11y suite switches their language): the title follows.
    await click(page, page.locator('ul.draft-list').getByRole('link', { name: lang === 'en' ? CALL_TITLE_EN : CALL_TITLE, exact: true }));
    expect(pathOf(page)).to.equal(`/calls/${callId}/edit`);
    expect(await pledge(page, t, 'SH', province('SH')).input.count()).to.equal(0);
    await pledge(page, t, 'JS', province('JS')).input.fill('3000000');
    await click(page, pledge(page, t, 'JS', province('JS')).save);
    await flash(page, 'calls:flash.pledgeSaved');
    expect(await page.locator('section#pledges .pledge-total').innerText()).to.equal('8,000,000.00');
    clean('the call editor (officer.js)');
    await session!.close();

    page = await signIn('officer.sh@demo.yrd');
    await page.goto(session!.url(`/calls/${callId}/edit`));
    await click(page, page.locator('section.lifecycle').getByRole('button', { name: t('calls:transition.to.published'), exact: true }));
    expect(session!.dialogs).to.deep.equal([t('calls:transition.confirm.published')]);
    await flash(page, 'calls:flash.moved.published');
    expect(await page.locator('.call-status').getAttribute('data-status')).to.equal('published');
    expect(await page.locator('.locked-note').innerText()).to.equal(t('calls:editor.lockedNote'));
    // The public page shows it as open, with both pledges.
    await click(page, page.getByRole('link', { name: t('calls:editor.viewPublic'), exact: true }));
    expect(await page.locator('.call-page h1').innerText()).to.equal(CALL_TITLE);
    expect(await page.locator('.call-pledges .pledge-total').innerText()).to.equal('8,000,000.00');
    await shot(page, '02-call-published');
    clean('the published call');
  });

  it('the PI starts a proposal, builds a two-province consortium, enters budgets, uploads a PDF and fixes a checklist failure', async () => {
    expect(callId, 'the published call').to.be.above(0);
    const page = await signIn('pi@demo.yrd');
    await click(page, nav(page, 'common:nav.calls'));
    await click(page, page.locator('table.calls-table').getByRole('link', { name: CALL_TITLE, exact: true }));
    expect(pathOf(page)).to.equal(`/calls/${callId}`);
    await click(page, page.getByRole('button', { name: t('calls:show.start'), exact: true }));
    await flash(page, 'proposals:editor.started');
    const m = /^\/proposals\/(\d+)\/edit\/basic$/.exec(pathOf(page));
    expect(m, `the editor's first step, not ${page.url()}`).to.not.equal(null);
    proposalId = Number(m![1]);
    expect(await page.locator('nav.proposal-steps [aria-current="step"]').innerText()).to.contain(t('proposals:steps.basic'));
    await axe(page, 'editor step basic (empty)');

    // 1. Basic information, with an abstract that is too short.
    await labelled(page, t('proposals:basic.title')).fill(PROPOSAL_TITLE);
    await labelled(page, t('proposals:basic.titleEn')).fill('Key technologies for coordinated air pollution control in the YRD');
    await labelled(page, t('proposals:basic.topic')).selectOption({ label: 'T01 区域大气污染协同治理' });
    await labelled(page, t('proposals:basic.abstract')).fill(SHORT_ABSTRACT);
    await labelled(page, t('proposals:basic.keywords')).fill('大气污染；协同治理；长三角');
    await labelled(page, t('proposals:basic.discipline')).fill('D0510');
    await labelled(page, t('proposals:basic.durationMonths')).fill('24');
    await click(page, page.getByRole('button', { name: t('proposals:editor.saveNext'), exact: true }));
    await flash(page, 'proposals:editor.saved');
    expect(pathOf(page)).to.equal(`/proposals/${proposalId}/edit/consortium`);
    // The compact checklist on every step names the short abstract and links to the step that fixes it.
    const abstractMsg = t('proposals:checklist.abstract', { min: '50' });
    expect(await checkItem(page, abstractMsg).getAttribute('class')).to.equal('check-fail');
    expect(await checkItem(page, abstractMsg).getByRole('link').getAttribute('href')).to.equal(`/proposals/${proposalId}/edit/basic`);

    // 2. Consortium: the PI's own 复旦大学 (Shanghai) leads; 南京大学 (Jiangsu) joins with its contact.
    const table = page.locator('section[aria-labelledby="step-h"] table tbody');
    expect(await table.locator('tr').count()).to.equal(1);
    expect(await table.locator('tr').first().innerText()).to.contain('复旦大学');
    await axe(page, 'editor step consortium');
    await labelled(page, t('proposals:consortium.institution')).selectOption({ label: '南京大学' });
    await labelled(page, t('proposals:consortium.contactEmail')).fill('partner@demo.yrd');
    await labelled(page, t('proposals:consortium.role')).fill('区域排放清单与源解析');
    await click(page, page.getByRole('button', { name: t('proposals:consortium.add'), exact: true }));
    await flash(page, 'proposals:consortium.added');
    const rows = await table.locator('tr').allInnerTexts();
    expect(rows).to.have.length(2);
    expect(rows[1]).to.contain('南京大学').and.contain(tr('zh-CN', 'common:provinces.JS')).and.contain('partner@demo.yrd').and.contain(t('proposals:consortium.unconfirmed'));
    expect(await checkItem(page, t('proposals:checklist.rule.minProvinces', { required: '2', actual: '2' })).count(), 'two provinces pass: not among the failures').to.equal(0);
    // The partner's contact is invited by mail, with a link to their sign-off page.
    const invite = await mailTo('partner@demo.yrd', (x) => x.text.includes(`/proposals/${proposalId}/partner/`));
    expect(invite.text).to.contain(PROPOSAL_TITLE);

    // 3. Budget: both partners' lines in 元; the totals add up exactly.
    await editorStep(page, 'budget');
    const lead = budgetGrid(page, t, '复旦大学');
    const partner = budgetGrid(page, t, '南京大学');
    expect(await lead.grid.locator('thead th').allInnerTexts(), '24 months: two budget years').to.include(t('proposals:budget.year', { n: '2' }));
    await lead.cell(1, '设备费').fill('300,000');
    await lead.cell(2, '劳务费').fill('120000.50');
    await lead.selfFunded.fill('50000');
    await lead.save();
    await flash(page, 'proposals:editor.saved');
    await partner.cell(1, '材料费').fill('80000');
    await partner.save();
    await flash(page, 'proposals:editor.saved');
    expect(await lead.total()).to.equal('420,000.50');
    expect(await partner.total()).to.equal('80,000.00');
    expect(await page.locator('main').innerText()).to.contain('500,000.50');
    await axe(page, 'editor step budget');

    // 4. Attachments: the PDF through the upload form (the page's script sends it with a progress bar).
    await editorStep(page, 'attachments');
    await axe(page, 'editor step attachments (empty)');
    expect(await checkItem(page, t('proposals:checklist.attachment', { kind: '申报书正文' })).count()).to.equal(1);
    await labelled(page, t('proposals:attachments.kind')).selectOption('application');
    await labelled(page, t('proposals:attachments.file')).setInputFiles({ name: PDF_NAME, mimeType: 'application/pdf', buffer: PDF });
    // With JavaScript the page sends the file itself (XHR, token in a header) and shows the progress.
    const sent = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === `/proposals/${proposalId}/attachments`);
    await page.getByRole('button', { name: t('proposals:attachments.upload'), exact: true }).click();
    const upload = await sent;
    expect(upload.headers()['accept']).to.equal('application/json');
    expect(upload.headers()['x-csrf-token'], 'CSRF token in the header').to.match(/.{16,}/);
    const uploaded = page.locator('ul.attachment-list li', { hasText: PDF_NAME });
    await uploaded.waitFor({ state: 'visible' });
    expect(await page.locator('.upload-error').isHidden()).to.equal(true);
    expect(await checkItem(page, t('proposals:checklist.attachment', { kind: '申报书正文' })).count(), 'the required kind is no longer missing').to.equal(0);
    // Downloading it gives back the same bytes, as a PDF attachment with its Chinese name.
    const href = await uploaded.getByRole('link', { name: PDF_NAME }).getAttribute('href');
    const res = await session!.context.request.get(session!.url(href!));
    expect(res.status()).to.equal(200);
    expect(res.headers()['content-type']).to.equal('application/pdf');
    expect(res.headers()['content-disposition']).to.contain(`filename*=UTF-8''${encodeURIComponent(PDF_NAME)}`);
    expect(Buffer.compare(await res.body(), PDF)).to.equal(0);
    await shot(page, '03-editor-attachments');
    await axe(page, 'editor step attachments');

    await editorStep(page, 'exclusions');
    await axe(page, 'editor step exclusions');

    // 6. Check and submit: the full checklist fails on the abstract (and the partner's confirmation).
    await editorStep(page, 'submit');
    expect(await checkItem(page, abstractMsg).getAttribute('class')).to.equal('check-fail');
    expect(await checkItem(page, t('proposals:checklist.confirmations', { count: '1' })).getAttribute('class')).to.equal('check-fail');
    expect(await page.locator('section.checklist li.check-fail').count()).to.equal(2);
    await axe(page, 'editor step submit (incomplete)');
    await shot(page, '04-checklist-failing');

    // The PI follows the failure's link, lengthens the abstract, and the item turns OK.
    await click(page, checkItem(page, abstractMsg).getByRole('link'));
    expect(pathOf(page)).to.equal(`/proposals/${proposalId}/edit/basic`);
    expect(await labelled(page, t('proposals:basic.abstract')).inputValue()).to.equal(SHORT_ABSTRACT);
    await labelled(page, t('proposals:basic.abstract')).fill(FULL_ABSTRACT);
    await click(page, page.getByRole('button', { name: t('proposals:editor.saveDraft'), exact: true }));
    await flash(page, 'proposals:editor.saved');
    expect(pathOf(page)).to.equal(`/proposals/${proposalId}/edit/basic`);
    expect(await page.locator('nav.proposal-steps li', { hasText: t('proposals:steps.basic') }).getAttribute('class')).to.equal('step-done');
    await editorStep(page, 'submit');
    expect(await checkItem(page, abstractMsg).getAttribute('class')).to.equal('check-ok');
    expect(await page.locator('section.checklist li.check-fail').count()).to.equal(1);
    expect(await page.locator('main').innerText()).to.contain(t('proposals:submit.stillMissing', { count: '1' }));
    clean('the proposal editor');
  });

  it("the partner's contact opens it from my proposals, adjusts their budget and confirms", async () => {
    expect(proposalId, 'the proposal of the previous step').to.be.above(0);
    const page = await signIn('partner@demo.yrd');
    await click(page, nav(page, 'common:nav.proposals'));
    const mine = page.locator('section[aria-labelledby="partner-h"]');
    const row = mine.locator('tr', { hasText: PROPOSAL_TITLE });
    expect(await row.innerText()).to.contain(t('proposals:consortium.unconfirmed'));
    await click(page, row.getByRole('link', { name: PROPOSAL_TITLE, exact: true }));
    expect(pathOf(page)).to.match(new RegExp(`^/proposals/${proposalId}/partner/\\d+$`));
    expect(await page.locator('h1').innerText()).to.equal(t('proposals:partner.heading', { name: '南京大学' }));

    const mineGrid = budgetGrid(page, t, '南京大学');
    expect(await page.locator('section.budget-partner').count(), "only their own partner's budget").to.equal(1);
    expect(await mineGrid.cell(1, '材料费').inputValue(), 'the line the PI entered').to.equal('80,000.00');
    await mineGrid.cell(2, '材料费').fill('20,000');
    await mineGrid.selfFunded.fill('30000');
    await mineGrid.save();
    await flash(page, 'proposals:editor.saved');
    expect(await mineGrid.total()).to.equal('100,000.00');
    await axe(page, 'the partner sign-off page');

    await click(page, page.getByRole('button', { name: t('proposals:partner.confirm'), exact: true }));
    expect(session!.dialogs).to.deep.equal([t('proposals:partner.confirmQuestion')]);
    await flash(page, 'proposals:partner.confirmed');
    expect(await page.locator('main').innerText()).to.contain(t('proposals:partner.confirmedAt'));
    expect(await page.getByRole('button', { name: t('proposals:partner.confirm'), exact: true }).count()).to.equal(0);
    await shot(page, '05-partner-confirmed');
    clean('the partner page');
  });

  it('the PI submits, sees the receipt number and receives the receipt mail', async () => {
    expect(proposalId, 'the proposal').to.be.above(0);
    const page = await signIn('pi@demo.yrd');
    await page.goto(session!.url(`/proposals/${proposalId}/edit/submit`));
    expect(await page.locator('section.checklist li.check-fail').count(), await page.locator('section.checklist').innerText()).to.equal(0);
    expect(await checkItem(page, t('proposals:checklist.confirmationsDone')).getAttribute('class')).to.equal('check-ok');
    await axe(page, 'editor step submit (complete)');

    await click(page, page.getByRole('button', { name: t('proposals:submit.button'), exact: true }));
    expect(session!.dialogs).to.deep.equal([t('proposals:submit.confirm')]);
    await page.locator('[data-receipt]').waitFor({ state: 'visible' });
    receiptNo = (await page.locator('[data-receipt]').innerText()).trim();
    await flash(page, 'proposals:submit.done', { receiptNo });
    expect(receiptNo).to.match(new RegExp(`^YRD-${callId}-\\d{8}-${String(proposalId).padStart(6, '0')}-1$`));
    expect(await page.locator('main .tag.status-submitted').first().innerText()).to.equal(t('proposals:status.submitted'));
    await shot(page, '06-submitted-receipt');

    const receipt = await mailTo('pi@demo.yrd', (x) => x.subject.includes(receiptNo));
    expect(receipt.subject).to.equal(tr('zh-CN', 'mail:proposal-receipt.subject', { receiptNo }));
    expect(receipt.text).to.contain(receiptNo).and.contain(PROPOSAL_TITLE).and.contain(PDF_NAME);
    expect(receipt.text).to.contain(`/proposals/${proposalId}`);
    clean('the submit step');
  });

  it('the host institution endorses it on /endorsements', async () => {
    expect(receiptNo, 'the receipt of the previous step').to.not.equal('');
    const page = await signIn('office@demo.yrd');
    await click(page, nav(page, 'common:nav.endorsements'));
    const row = page.locator('tr', { has: page.locator('code', { hasText: receiptNo }) });
    expect(await row.count()).to.equal(1);
    await click(page, row.getByRole('link', { name: PROPOSAL_TITLE, exact: true }));
    expect(pathOf(page)).to.equal(`/endorsements/${proposalId}`);
    await axe(page, 'the endorsement page');
    await click(page, page.getByRole('button', { name: t('screening:endorse.endorse'), exact: true }));
    await flash(page, 'screening:endorse.done.endorsed');
    expect(pathOf(page)).to.equal('/endorsements');
    expect(await page.locator('tr', { has: page.locator('code', { hasText: receiptNo }) }).count(), 'no longer pending').to.equal(0);
    await click(page, page.getByRole('link', { name: t('screening:endorse.show.all'), exact: true }));
    expect(await page.locator('tr', { has: page.locator('code', { hasText: receiptNo }) }).locator('.tag.status-endorsed').innerText()).to.equal(t('screening:status.endorsed'));
    clean('the endorsement pages');
  });

  it('officer.sh finds it on /screening by its receipt, reads the eligibility report and marks it eligible; the PI sees the result', async () => {
    expect(receiptNo, 'the receipt').to.not.equal('');
    let page = await signIn('officer.sh@demo.yrd');
    await click(page, nav(page, 'common:nav.screening'));
    await labelled(page, t('screening:filters.q')).fill(receiptNo);
    await click(page, page.getByRole('button', { name: t('common:form.search'), exact: true }));
    expect(new URL(page.url()).searchParams.get('q')).to.equal(receiptNo);
    const rows = page.locator('table.office-list tbody tr');
    expect(await rows.count()).to.equal(1);
    expect(await rows.first().innerText()).to.contain(PROPOSAL_TITLE).and.contain(t('screening:eligibility.passes'));
    await click(page, rows.first().getByRole('link', { name: PROPOSAL_TITLE, exact: true }));
    expect(pathOf(page)).to.equal(`/screening/${proposalId}`);

    // The per-rule report: every rule of the call checked, none failed.
    const report = page.locator('ul.rule-report li');
    expect(await report.count()).to.equal(9);
    expect(await page.locator('ul.rule-report li.rule-failed').count()).to.equal(0);
    expect(await page.locator('ul.rule-report li[data-rule="minProvinces"]').innerText()).to.contain(t('screening:eligibility.ok'));
    expect(await page.locator('dl.facts').innerText()).to.contain(receiptNo).and.contain('520,000.50'); // 420,000.50 (复旦) + 100,000.00 (南京, after the partner's change)
    await axe(page, `/screening/${proposalId}`);
    await shot(page, '07-screening-detail');

    expect(await page.getByLabel(t('screening:decide.eligible'), { exact: true }).isChecked(), 'all rules pass: eligible is proposed').to.equal(true);
    await labelled(page, t('screening:decide.reason')).fill('材料齐全，符合申报条件。');
    await click(page, page.getByRole('button', { name: t('screening:decide.submit'), exact: true }));
    await flash(page, 'screening:decide.done.eligible');
    expect(await page.locator('dl.facts .tag.status-eligible').innerText()).to.equal(t('screening:status.eligible'));
    clean('the screening pages');
    await session!.close();

    page = await signIn('pi@demo.yrd');
    await click(page, nav(page, 'common:nav.proposals'));
    const mine = page.locator('section[aria-labelledby="pi-h"] tr', { hasText: PROPOSAL_TITLE });
    expect(await mine.locator('.tag.status-eligible').innerText()).to.equal(t('proposals:status.eligible'));
    expect(await mine.innerText()).to.contain(receiptNo);
    const screened = await mailTo('pi@demo.yrd', (x) => x.subject === tr('zh-CN', 'mail:proposal-screened.subject', { title: PROPOSAL_TITLE }));
    expect(screened.text).to.contain(tr('zh-CN', 'mail:proposal-screened.eligible')).and.contain(receiptNo).and.contain('材料齐全，符合申报条件。');
    clean('my proposals');
  });
});
