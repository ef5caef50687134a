/**
 * Browser test harness: the real app (boot() exactly as `npm start` builds it, with the demo seed) on a fresh
 * SQLite file under var/ and a random 127.0.0.1 port, driven by Debian's Chromium through playwright-core.
 * One app and one browser per run (started on first use, closed by the root `after` hook below); every test
 * gets its own browser context, so cookies never leak between tests.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Result } from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { boot } from '../../server/boot.js';
import { loadConfig, ROOT } from '../../server/config.js';

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
}

let current: Promise<Harness> | null = null;
let dbFile: string | null = null;

async function start(): Promise<Harness> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} is missing: apt-get install -y chromium`);
  const dir = path.join(ROOT, 'var', 'browser');
  mkdirSync(dir, { recursive: true });
  dbFile = path.join(dir, `browser-${process.pid}.sqlite`);
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(dbFile + suffix, { force: true });

  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: `sqlite:${path.relative(ROOT, dbFile)}`,
    HOST: '127.0.0.1',
    PORT: '0',
    BASE_URL: 'http://127.0.0.1',
    SEED_DEMO: 'true',
    HASH_CONCURRENCY: '2',
  });
  const platform = await boot(config, { seed: true, startWorker: false });
  const server: Server = await new Promise((resolve, reject) => {
    const s = platform.app.listen(0, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
  return { baseUrl: `http://127.0.0.1:${port}`, browser, platform, server };
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
  if (dbFile) for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(dbFile + suffix, { force: true });
}

// A top-level hook in a module loaded by the spec files is a root hook: it runs once, after every browser test.
after(async function (this: Mocha.Context) {
  this.timeout(30_000);
  await closeHarness();
});

/** A browser tab in a fresh context, with every console error, uncaught error and CSP violation recorded. */
export interface Session {
  context: BrowserContext;
  page: Page;
  /** Console errors, page errors and CSP violations seen so far (a 4xx status of the page itself excepted). */
  problems: string[];
  url(pathname: string): string;
  close(): Promise<void>;
}

export async function openSession(o: { width?: number; height?: number } = {}): Promise<Session> {
  const h = await harness();
  const context = await h.browser.newContext({ viewport: { width: o.width ?? 1280, height: o.height ?? 900 } });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const problems: string[] = [];
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
  return { context, page, problems, url: (p) => h.baseUrl + p, close: () => context.close() };
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

/** The form control labelled `label` (a required field's label ends with a decorative "*"). */
export function field(page: Page, label: string) {
  return page.getByLabel(new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\*?\\s*$`));
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
