/**
 * Accessibility and CSP in a real browser: axe-core finds no serious or critical violation on the account
 * pages, the home pages, the administration entry and the error pages, and no page logs a console error
 * (a CSP violation, a script error, a missing resource).
 */
import { expect } from 'chai';
import { DEMO_LOGINS } from '../../server/seed/demo.js';
import { formatViolations, harness, openSession, seriousViolations, signInThroughForm, t, type Session } from '../support/browser.js';

interface Check {
  path: string;
  as: string | null; // demo login, or null for a visitor
  status: number;
  /** Text the page must show, so we know axe looked at the page we meant. */
  heading: string;
  lang?: 'en';
}

const CHECKS: Check[] = [
  { path: '/login', as: null, status: 200, heading: t('zh-CN', 'people:login.title') },
  { path: '/login', as: null, status: 200, heading: t('en', 'people:login.title'), lang: 'en' },
  { path: '/register', as: null, status: 200, heading: t('zh-CN', 'people:register.title') },
  { path: '/password/forgot', as: null, status: 200, heading: t('zh-CN', 'people:forgot.title') },
  { path: '/', as: null, status: 200, heading: t('zh-CN', 'common:app.name') },
  { path: '/', as: 'pi@demo.yrd', status: 200, heading: t('zh-CN', 'common:home.roles.applicant.title') },
  { path: '/', as: 'admin@demo.yrd', status: 200, heading: t('zh-CN', 'common:home.roles.admin.title') },
  { path: '/', as: 'officer.sh@demo.yrd', status: 200, heading: t('zh-CN', 'common:home.roles.officer.title') },
  { path: '/account', as: 'pi@demo.yrd', status: 200, heading: t('zh-CN', 'people:account.title') },
  { path: '/account', as: 'officer.js@demo.yrd', status: 200, heading: t('en', 'people:account.title'), lang: 'en' }, // changes this user's language for good
  { path: '/admin', as: 'admin@demo.yrd', status: 200, heading: t('zh-CN', 'common:admin.title') },
  { path: '/no-such-page', as: null, status: 404, heading: t('zh-CN', 'common:errors.notFound.title') },
  { path: '/admin', as: 'pi@demo.yrd', status: 403, heading: t('zh-CN', 'common:errors.403.title') },
];

describe('browser: accessibility (axe) and CSP', function () {
  let session: Session | undefined;

  before(async function () {
    this.timeout(120_000);
    await harness();
  });

  afterEach(async () => {
    await session?.close();
    session = undefined;
  });

  for (const c of CHECKS) {
    const who = c.as ?? 'a visitor';
    it(`${c.path} (${c.status}) as ${who}${c.lang ? ' in English' : ''}: no serious or critical axe violation, no console error`, async () => {
      session = await openSession();
      const { page } = session;
      if (c.as) {
        await page.goto(session.url('/login'));
        await signInThroughForm(session, c.as, DEMO_LOGINS.password);
        expect(new URL(page.url()).pathname, `${c.as} signed in`).to.equal('/');
      }
      if (c.lang === 'en') {
        await page.goto(session.url(c.path));
        await page.getByRole('button', { name: 'English', exact: true }).click();
        await page.waitForLoadState('load');
      }
      const res = await page.goto(session.url(c.path));
      expect(res?.status(), `status of ${c.path}`).to.equal(c.status);
      expect(new URL(page.url()).pathname).to.equal(c.path);
      expect(await page.locator('html').getAttribute('lang')).to.equal(c.lang ?? 'zh-CN');
      expect(await page.locator('main').innerText()).to.contain(c.heading);

      const violations = await seriousViolations(page);
      expect(violations.length, formatViolations(`${c.path} as ${who}`, violations)).to.equal(0);
      expect(session.problems, `errors in the browser console on ${c.path}:\n${session.problems.join('\n')}`).to.deep.equal([]);
    });
  }

  it('reports a CSP violation when a page breaks the policy (the check above can fail)', async () => {
    session = await openSession();
    const { page } = session;
    await page.goto(session.url('/login'));
    expect(session.problems).to.deep.equal([]);
    // What a template with an inline script would do: the browser must refuse it and we must notice.
    await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__ran = true';
      document.body.append(s);
    });
    await page.waitForTimeout(200);
    expect(await page.evaluate(() => (window as unknown as { __ran?: boolean }).__ran)).to.equal(undefined);
    expect(session.problems.join('\n')).to.match(/Content Security Policy|CSP violation/);
  });

  it('axe flags a serious violation when one is there (the check above can fail)', async () => {
    session = await openSession();
    const { page } = session;
    await page.goto(session.url('/login'));
    // An unlabelled field and an image without text alternative: both serious or critical for axe.
    await page.evaluate(() => {
      document.querySelector('main form')?.append(Object.assign(document.createElement('input'), { type: 'text', name: 'x' }));
    });
    const violations = await seriousViolations(page);
    expect(violations.map((v) => v.id)).to.include('label');
    expect(formatViolations('/login (tampered)', violations)).to.contain('label');
  });
});
