/**
 * Browser test harness: the real app (boot() exactly as `npm start` builds it, with the demo seed) on a fresh
 * SQLite file under var/ and a random 127.0.0.1 port, driven by Debian's Chromium through playwright-core.
 * One app and one browser per run (started on first use, closed by the root `after` hook below); every test
 * gets its own browser context, so cookies never leak between tests. The app sends its mail to a real SMTP peer
 * on 127.0.0.1 (test/support/smtp.ts), so a test can read what a user receives (`harness().mail`).
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Result } from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { boot } from '../../server/boot.js';
import { loadConfig, ROOT } from '../../server/config.js';
import { SmtpSink, type ReceivedMail } from './smtp.js';
import { DEMO_LOGINS } from '../../server/seed/demo.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const AXE_PATH = path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js');
let axeSource: string | undefined;

type Platform = Awaited<ReturnType<typeof boot>>;

export interface Harness {
  baseUrl: string;
  browser: Browser;
  platform: Platform;
  server: Server;
  /** Every message the app delivered, as the recipients' mail server received it. */
  mail: SmtpSink;
}

let current: Promise<Harness> | null = null;
let dbFile: string | null = null;
let sink: SmtpSink | null = null;
let uploadDir: string | null = null;

async function start(): Promise<Harness> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} is missing: apt-get install -y chromium`);
  const dir = path.join(ROOT, 'var', 'browser');
  mkdirSync(dir, { recursive: true });
  dbFile = path.join(dir, `browser-${process.pid}.sqlite`);
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(dbFile + suffix, { force: true });
  uploadDir = path.join(dir, `uploads-${process.pid}`);
  rmSync(uploadDir, { recursive: true, force: true });
  const mail = (sink = new SmtpSink());
  await mail.start();

  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: `sqlite:${path.relative(ROOT, dbFile)}`,
    HOST: '127.0.0.1',
    PORT: '0',
    BASE_URL: 'http://127.0.0.1',
    SEED_DEMO: 'true',
    HASH_CONCURRENCY: '2',
    SMTP_URL: mail.url,
    UPLOAD_DIR: path.relative(ROOT, uploadDir), // uploaded files go with the run's database, not into uploads/
  });
  const platform = await boot(config, { seed: true, startWorker: false });
  const server: Server = await new Promise((resolve, reject) => {
    const s = platform.app.listen(0, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
  return { baseUrl: `http://127.0.0.1:${port}`, browser, platform, server, mail };
}

export function harness(): Promise<Harness> {
  current ??= start();
  return current;
}

export async function closeHarness(): Promise<void> {
  if (!current) return;
  const pending = current;
  current = null;
  const h = await pending.catch(() => null);
  if (h) {
    await h.browser.close().catch(() => undefined);
    await h.platform.shutdown(h.server, 5_000);
  }
  await sink?.stop();
  sink = null;
  if (dbFile) for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(dbFile + suffix, { force: true });
  if (uploadDir) rmSync(uploadDir, { recursive: true, force: true });
}

// A top-level hook in a module loaded by the spec files is a root hook: it runs once, after every browser test.
after(async function (this: Mocha.Context) {
  this.timeout(30_000);
  await closeHarness();
});

/** Wait until the app has delivered a message to `address` that `match`es (mail goes out asynchronously). */
export async function waitForMail(address: string, match: (m: ReceivedMail) => boolean, timeoutMs = 10_000): Promise<ReceivedMail> {
  const { mail } = await harness();
  const end = Date.now() + timeoutMs;
  for (;;) {
    const found = mail.to(address).find(match);
    if (found) return found;
    if (Date.now() > end) throw new Error(`no matching mail to ${address}; received:\n${mail.to(address).map((m) => m.subject).join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A browser tab in a fresh context, with every console error, uncaught error and CSP violation recorded. */
export interface Session {
  context: BrowserContext;
  page: Page;
  /** Console errors, page errors and CSP violations seen so far (a 4xx status of the page itself excepted). */
  problems: string[];
  /** The confirm()/alert() questions the pages asked (recorded with `acceptDialogs`). */
  dialogs: string[];
  url(pathname: string): string;
  close(): Promise<void>;
}

/**
 * `acceptDialogs`: answer every confirm() with OK, as a user who means it (forms with data-confirm), and record
 * the question in `dialogs`. Without it Playwright dismisses them.
 */
export async function openSession(o: { width?: number; height?: number; acceptDialogs?: boolean } = {}): Promise<Session> {
  const h = await harness();
  const context = await h.browser.newContext({ viewport: { width: o.width ?? 1280, height: o.height ?? 900 } });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const problems: string[] = [];
  const dialogs: string[] = [];
  if (o.acceptDialogs) {
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
  }
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    // The error pages (403, 404) are served with their status: Chromium logs that as a failed resource load.
    const where = msg.location().url;
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text()) && where === page.url()) return;
    problems.push(`console error: ${msg.text()}${where ? ` (${where})` : ''}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  // Caught in the page itself too: a CSP report does not always reach the console.
  await page.exposeBinding('__reportCsp', (_source, line: string) => void problems.push(`CSP violation: ${line}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __reportCsp(s: string): void }).__reportCsp(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  return { context, page, problems, dialogs, url: (p) => h.baseUrl + p, close: () => context.close() };
}

/** Fails with the recorded console errors / CSP violations, if any. */
export function expectCleanConsole(s: Session, where = s.page.url()): void {
  if (s.problems.length) throw new Error(`errors in the browser console on ${where}:\n${s.problems.join('\n')}`);
}

/** Locale strings straight from locales/<lang>/<ns>.json, so a test follows wording changes. */
export function t(lang: 'zh-CN' | 'en', key: string, vars: Record<string, string> = {}): string {
  const [ns, rest] = key.split(':') as [string, string];
  const dict = JSON.parse(readFileSync(path.join(ROOT, 'locales', lang, `${ns}.json`), 'utf8')) as Record<string, unknown>;
  const value = rest.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), dict);
  if (typeof value !== 'string') throw new Error(`no locale string ${lang} ${key}`);
  return value.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, v: string) => vars[v] ?? '');
}

/** The form control labelled `label` (a required field's label ends with a decorative "*"), in a page or a part of it. */
export function field(page: Page | Locator, label: string) {
  return page.getByLabel(new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\*?\\s*$`));
}

/** Click something that loads a new page (a link, a form's button) and wait until the new page has loaded. */
export async function clickToLoad(page: Page, target: Locator): Promise<void> {
  const navigated = page.waitForEvent('framenavigated', (f) => f === page.mainFrame());
  await target.click();
  await navigated;
  await page.waitForLoadState('load');
}

/** A Date as the Asia/Shanghai wall time a `<input type="datetime-local">` takes (YYYY-MM-DDTHH:mm). */
export function shanghaiLocal(d: Date): string {
  const f = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  return f.format(d).replace(' ', 'T');
}

/** Sign in through the real login form: type into the labelled fields, press the button. */
export async function signInThroughForm(s: Session, email: string, password: string, lang: 'zh-CN' | 'en' = 'zh-CN') {
  const { page } = s;
  if (!new URL(page.url(), 'http://x').pathname.startsWith('/login')) await page.goto(s.url('/login'));
  await field(page, t(lang, 'people:fields.email.label')).fill(email);
  await field(page, t(lang, 'people:fields.password.label')).fill(password);
  await page.getByRole('button', { name: t(lang, 'people:login.submit'), exact: true }).click();
  await page.waitForLoadState('load');
}

/**
 * A new browser context signed in through the form as a demo user (confirm dialogs accepted), on the home
 * page; `lang` is the language the user's pages speak.
 */
export async function openAsDemoUser(email: string): Promise<{ session: Session; page: Page; lang: 'zh-CN' | 'en' }> {
  const session = await openSession({ acceptDialogs: true });
  const { page } = session;
  await page.goto(session.url('/login'));
  await signInThroughForm(session, email, DEMO_LOGINS.password);
  if (new URL(page.url()).pathname !== '/') throw new Error(`${email} did not sign in (at ${page.url()})`);
  const lang = (await page.locator('html').getAttribute('lang')) === 'en' ? 'en' : 'zh-CN';
  return { session, page, lang };
}

/** Wait until a success flash with this text is on the page. */
export async function waitForFlash(page: Page, text: string): Promise<void> {
  await page.locator('.flash-success', { hasText: text }).first().waitFor({ state: 'visible' });
}

/** Run axe-core on the page; returns the serious and critical violations. */
export async function seriousViolations(page: Page): Promise<Result[]> {
  const loaded = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe !== 'undefined');
  // Not page.addScriptTag: that inserts an inline <script>, which the app's CSP (script-src 'self') rightly
  // refuses. Evaluating through the DevTools protocol is not subject to the page's CSP.
  if (!loaded) await page.evaluate((axeSource ??= readFileSync(AXE_PATH, 'utf8')));
  const results = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: typeof import('axe-core') }).axe;
    return axe.run(document, { resultTypes: ['violations'] });
  });
  return results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Fails with a readable report when axe finds a serious or critical violation on the page. */
export async function expectAccessible(page: Page, where: string = page.url()): Promise<void> {
  const v = await seriousViolations(page);
  if (v.length) throw new Error(formatViolations(where, v));
}

/** A full-page screenshot under test-results/<dir>/<name>.png (git-ignored), for a person to look at. */
export async function screenshot(page: Page, dir: string, name: string): Promise<void> {
  const folder = path.join(ROOT, 'test-results', dir);
  mkdirSync(folder, { recursive: true });
  await page.screenshot({ path: path.join(folder, `${name}.png`), fullPage: true });
}

/** A readable report of axe violations: rule, impact, help link, and each offending element with the fix. */
export function formatViolations(where: string, violations: Result[]): string {
  const lines = [`${violations.length} serious/critical accessibility violation(s) on ${where}:`];
  for (const v of violations) {
    lines.push(`- [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})`);
    for (const n of v.nodes.slice(0, 8)) {
      lines.push(`    at ${n.target.join(' ')}`);
      lines.push(`       ${n.html.slice(0, 200)}`);
      if (n.failureSummary) lines.push(...n.failureSummary.split('\n').map((l) => `       ${l}`));
    }
    if (v.nodes.length > 8) lines.push(`    … and ${v.nodes.length - 8} more`);
  }
  return lines.join('\n');
}
