/**
 * What a user does on the call editor and the proposal budget pages, as small actions for the end-to-end flow
 * (proposal-flow.test.ts): every field found by its visible label, every form sent with its own button.
 */
import type { Locator, Page } from 'playwright-core';
import { clickToLoad, field, shanghaiLocal } from '../support/browser.js';

export type Translate = (key: string, vars?: Record<string, string>) => string;

export interface NewCall {
  programme: [zh: string, en: string];
  title: [zh: string, en: string];
  body: [zh: string, en: string];
  opensAt: Date;
  deadlineAt: Date;
  endorsementDeadlineAt: Date;
  reviewDueAt: Date;
  decisionAt: Date;
}

/** The settings form of /calls/new, filled in (endorsement required), and sent with "create draft". */
export async function createCall(page: Page, t: Translate, c: NewCall): Promise<void> {
  const fill = (key: string, value: string) => field(page, t(key)).fill(value);
  await fill('calls:fields.programmeName', c.programme[0]);
  await fill('calls:fields.programmeNameEn', c.programme[1]);
  await fill('calls:fields.titleZh', c.title[0]);
  await fill('calls:fields.titleEn', c.title[1]);
  await fill('calls:fields.bodyZh', c.body[0]);
  await fill('calls:fields.bodyEn', c.body[1]);
  await fill('calls:fields.opensAt', shanghaiLocal(c.opensAt));
  await fill('calls:fields.deadlineAt', shanghaiLocal(c.deadlineAt));
  await field(page, t('calls:fields.endorsementRequired')).check();
  await fill('calls:fields.endorsementDeadlineAt', shanghaiLocal(c.endorsementDeadlineAt));
  await fill('calls:fields.reviewDueAt', shanghaiLocal(c.reviewDueAt));
  await fill('calls:fields.decisionAt', shanghaiLocal(c.decisionAt));
  await clickToLoad(page, page.getByRole('button', { name: t('calls:editor.create'), exact: true }));
}

export async function addTopic(page: Page, t: Translate, code: string, titleZh: string, titleEn: string): Promise<void> {
  const form = page.locator('section#topics form.add-form');
  await field(form, t('calls:topics.code')).fill(code);
  await field(form, t('calls:topics.titleZh')).fill(titleZh);
  await field(form, t('calls:topics.titleEn')).fill(titleEn);
  await clickToLoad(page, form.getByRole('button', { name: t('calls:topics.add'), exact: true }));
}

export async function addCriterion(page: Page, t: Translate, nameZh: string, nameEn: string, weight: number, scaleMax = 10): Promise<void> {
  const form = page.locator('section#criteria form.add-form');
  await field(form, t('calls:criteria.nameZh')).fill(nameZh);
  await field(form, t('calls:criteria.nameEn')).fill(nameEn);
  await field(form, t('calls:criteria.weight')).fill(String(weight));
  await field(form, t('calls:criteria.scale')).fill(String(scaleMax));
  await clickToLoad(page, form.getByRole('button', { name: t('calls:criteria.add'), exact: true }));
}

/** Add an attachment kind; "required" is ticked by default in the form, so it is set explicitly. */
export async function addKind(page: Page, t: Translate, k: { code: string; nameZh: string; nameEn: string; maxMb: number; types: string[]; required: boolean }): Promise<void> {
  const form = page.locator('section#kinds form.add-form');
  await field(form, t('calls:kinds.code')).fill(k.code);
  await field(form, t('calls:kinds.nameZh')).fill(k.nameZh);
  await field(form, t('calls:kinds.nameEn')).fill(k.nameEn);
  await field(form, t('calls:kinds.maxMb')).fill(String(k.maxMb));
  for (const type of k.types) await form.getByLabel(type, { exact: true }).check();
  await field(form, t('calls:kinds.required')).setChecked(k.required);
  await clickToLoad(page, form.getByRole('button', { name: t('calls:kinds.add'), exact: true }));
}

/** The attachment kinds of the editor's table: code and whether it is required. */
export async function kindsOnPage(page: Page, t: Translate): Promise<Array<{ code: string; required: boolean }>> {
  const rows = await page.locator('section#kinds tbody tr').evaluateAll((trs) => trs.map((r) => [r.querySelector('code')?.textContent ?? '', r.querySelectorAll('td')[2]?.textContent?.trim() ?? '']));
  return rows.map(([code, req]) => ({ code: code!, required: req === t('calls:kinds.yes') }));
}

/** A province's pledge field (only that province's officers have one) and its save button. */
export function pledge(page: Page, t: Translate, code: string, provinceName: string) {
  const row = page.locator(`section#pledges tr[data-province="${code}"]`);
  return { input: field(page.locator('section#pledges'), t('calls:pledges.amountFor', { name: provinceName })), save: row.getByRole('button', { name: t('common:form.save'), exact: true }) };
}

/** One partner's budget grid (the section headed by the institution's name): cells by "year category" label. */
export function budgetGrid(page: Page, t: Translate, institution: string) {
  const grid = page.locator('section.budget-partner', { has: page.getByRole('heading', { name: new RegExp(institution) }) });
  return {
    grid,
    cell: (year: number, category: string): Locator => grid.getByLabel(`${t('proposals:budget.year', { n: String(year) })} ${category}`, { exact: true }),
    selfFunded: field(grid, t('proposals:budget.selfFunded')),
    save: () => clickToLoad(page, grid.getByRole('button', { name: t('proposals:budget.save'), exact: true })),
    total: () => grid.locator('tfoot strong').innerText(),
  };
}
