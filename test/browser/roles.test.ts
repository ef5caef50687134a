/**
 * The demo as a person uses it, in a real browser: each demo role signs in through the login form and lands on
 * its own home page; the page speaks Chinese first and switches to English; a wrong password keeps the e-mail
 * and says what went wrong; phone-width pages do not scroll sideways.
 */
import { expect } from 'chai';
import { User } from '../../server/people/models.js';
import { DEMO_LOGINS } from '../../server/seed/demo.js';
import { expectCleanConsole, field, harness, openSession, signInThroughForm, t, type Session } from '../support/browser.js';

/** Each demo login and the home-page section its role must see. */
const ROLE_HOMES: Array<{ email: string; role: string }> = [
  { email: 'admin@demo.yrd', role: 'admin' },
  { email: 'officer.sh@demo.yrd', role: 'officer' },
  { email: 'pi@demo.yrd', role: 'applicant' },
  { email: 'expert@demo.yrd', role: 'expert' },
  { email: 'office@demo.yrd', role: 'institution_admin' },
];

const pathOf = (s: Session | undefined) => new URL(s!.page.url()).pathname;

describe('browser: demo roles and the login page', function () {
  let session: Session | undefined;

  before(async function () {
    this.timeout(120_000);
    await harness();
  });

  afterEach(async () => {
    await session?.close();
    session = undefined;
  });

  it('lists every tested account among the demo logins', () => {
    const demo = DEMO_LOGINS.users.map((u) => u.email);
    for (const { email } of ROLE_HOMES) expect(demo).to.include(email);
  });

  for (const { email, role } of ROLE_HOMES) {
    it(`${email} signs in through the form, sees the ${role} home page and their name, and signs out`, async () => {
      session = await openSession();
      const { page } = session;
      const user = await User.findOne({ where: { email }, raw: true });
      expect(user, `demo user ${email} seeded`).to.not.equal(null);

      await page.goto(session.url('/login'));
      await signInThroughForm(session, email, DEMO_LOGINS.password);

      expect(pathOf(session)).to.equal('/');
      await page.locator(`section[data-role="${role}"]`).waitFor({ state: 'visible' });
      expect(await page.locator(`section[data-role="${role}"] h2`).innerText()).to.contain(t('zh-CN', `common:home.roles.${role}.title`));
      expect(await page.locator('h1').innerText()).to.equal(t('zh-CN', 'common:home.greeting', { name: user!.name }));
      expect(await page.locator('header .user-name').innerText()).to.equal(user!.name);
      // Only the roles this user holds: no one else's section.
      const shown = await page.locator('section[data-role]').evaluateAll((els) => els.map((e) => e.getAttribute('data-role')));
      expect(shown).to.deep.equal([role]);

      await page.getByRole('button', { name: t('zh-CN', 'common:nav.logout'), exact: true }).click();
      await page.waitForURL(session.url('/login'));
      expect(await page.locator('header .user-name').count()).to.equal(0);
      expect(await page.locator('.flash-info').innerText()).to.equal(t('zh-CN', 'people:logout.done'));
      // Signed out for real: the home page is the visitor's welcome again.
      await page.goto(session.url('/'));
      expect(await page.locator('section[data-role]').count()).to.equal(0);
      expect(await page.getByRole('link', { name: t('zh-CN', 'common:nav.login'), exact: true }).first().isVisible()).to.equal(true);
      expectCleanConsole(session);
    });
  }

  it('shows the login page in Chinese first and switches to English with the header button', async () => {
    session = await openSession();
    const { page } = session;
    await page.goto(session.url('/login'));
    expect(await page.locator('html').getAttribute('lang')).to.equal('zh-CN');
    expect(await page.locator('h1').innerText()).to.equal(t('zh-CN', 'people:login.title'));
    expect(await field(page, t('zh-CN', 'people:fields.email.label')).count()).to.equal(1);

    await page.getByRole('button', { name: 'English', exact: true }).click();
    await page.waitForLoadState('load');
    expect(pathOf(session)).to.equal('/login');
    expect(await page.locator('html').getAttribute('lang')).to.equal('en');
    expect(await page.locator('h1').innerText()).to.equal(t('en', 'people:login.title'));
    expect(await field(page, t('en', 'people:fields.email.label')).count()).to.equal(1);
    expect(await page.getByRole('button', { name: t('en', 'people:login.submit'), exact: true }).count()).to.equal(1);
    // …and the choice sticks for the next page, with a way back to Chinese.
    await page.goto(session.url('/register'));
    expect(await page.locator('html').getAttribute('lang')).to.equal('en');
    expect(await page.getByRole('button', { name: '中文', exact: true }).count()).to.equal(1);
    expectCleanConsole(session);
  });

  it('says the e-mail or password is wrong next to the form and keeps the typed e-mail', async () => {
    session = await openSession();
    const { page } = session;
    await page.goto(session.url('/login'));
    await signInThroughForm(session, 'partner@demo.yrd', 'not-the-password');

    expect(pathOf(session)).to.equal('/login');
    const error = page.locator('#login-error');
    expect(await error.innerText()).to.equal(t('zh-CN', 'people:login.failed'));
    expect(await error.getAttribute('role')).to.equal('alert');
    // Next to the form: in the same panel, right above it.
    expect(await page.locator('section.panel:has(form[action="/login"]) #login-error').count()).to.equal(1);
    expect(await field(page, t('zh-CN', 'people:fields.email.label')).inputValue()).to.equal('partner@demo.yrd');
    expect(await field(page, t('zh-CN', 'people:fields.password.label')).inputValue()).to.equal('');
    expect(await page.locator('header .user-name').count()).to.equal(0);
    expectCleanConsole(session);
  });

  for (const who of ['visitor', 'pi@demo.yrd']) {
    it(`has no horizontal scroll at phone width (375px) on /login and / (${who})`, async () => {
      session = await openSession({ width: 375, height: 740 });
      const { page } = session;
      const pages = ['/login', '/'];
      if (who !== 'visitor') {
        await page.goto(session.url('/login'));
        await signInThroughForm(session, who, DEMO_LOGINS.password);
        expect(pathOf(session)).to.equal('/');
        pages.splice(0, 1, '/account'); // signed in, /login sends you home; the account page is the form-heavy one
      }
      for (const p of pages) {
        await page.goto(session.url(p));
        const { scrollWidth, clientWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth }));
        expect(scrollWidth, `${p} is ${scrollWidth}px wide in a ${clientWidth}px viewport`).to.be.at.most(clientWidth);
      }
      expectCleanConsole(session);
    });
  }
});
