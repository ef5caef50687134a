/**
 * The deadline surge: N virtual PIs (default 200), each signed in through the real POST /login with its own
 * cookies and CSRF token, submit their complete drafts at the same moment and keep doing so for the window
 * (default 15 s): submit → (receipt) → withdraw → open the submit step again for a fresh idempotency key →
 * submit again. Every submission that answers "submitted" is a real new submission with its own receipt.
 *
 * Afterwards the rows in proposal_submissions are counted: lost = answered as submitted − stored (must be 0).
 * Errors are 5xx, timeouts, network errors and any answer a browser would not expect (4xx, a wrong flash).
 */
import { signIn } from './client.js';
import type { BenchContext, Measurement } from './measurements.js';
import { prepareSurge, SURGE_PASSWORD } from './surge-data.js';
import { withCpu, type PhaseCpu } from './threads.js';

export interface SurgeOptions {
  base: string;
  /** The app's process id (its CPU use over the window is recorded). */
  appPid: number;
  databaseUrl: string;
  clients: number;
  seconds: number;
  log(message: string): void;
}

export interface Surge {
  clients: number;
  seconds: number;
  submitted: number;
  stored: number;
  lost: number;
  errors: number;
  /** A few distinct error descriptions, for the note. */
  errorKinds: string[];
  submit_p50_ms: number;
  submit_p99_ms: number;
  submit_max_ms: number;
  submit_requests: number;
  withdrawals: number;
  /** p99 over every request of the loop (submit page, submit, withdraw). */
  all_p99_ms: number;
  submits_per_s: number;
  /** The app's CPU use (cores) during the window, and time runnable without a CPU. */
  app: PhaseCpu;
}

const TIMEOUT_MS = 10_000;

class Jar {
  private readonly cookies = new Map<string, string>();
  constructor(header: string) {
    for (const c of header.split('; ').filter(Boolean)) this.cookies.set(c.split('=')[0]!, c);
  }
  /** Keep what the server sets, except the one-shot flash cookie (read separately). */
  update(res: Response): void {
    for (const raw of res.headers.getSetCookie()) {
      const pair = raw.split(';')[0]!;
      const name = pair.split('=')[0]!;
      if (name === 'yrd.flash') continue;
      if (pair.length === name.length + 1) this.cookies.delete(name);
      else this.cookies.set(name, pair);
    }
  }
  get header(): string {
    return [...this.cookies.values()].join('; ');
  }
}

/** The flash messages a response set (the app keeps them in a base64url JSON cookie until the next page). */
function flashKeys(res: Response): string[] {
  const raw = res.headers
    .getSetCookie()
    .map((c) => /^yrd\.flash=([^;]+)/.exec(c)?.[1])
    .find((v) => v && v.length > 0);
  if (!raw) return [];
  try {
    const list = JSON.parse(Buffer.from(decodeURIComponent(raw), 'base64url').toString('utf8')) as Array<{ key: string }>;
    return list.map((f) => f.key);
  } catch {
    return [];
  }
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function pool<T>(items: T[], width: number, fn: (x: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

export async function runSurge(o: SurgeOptions): Promise<Surge> {
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(o.base)) throw new Error(`refusing to load anything but 127.0.0.1: ${o.base}`);
  o.log(`surge: preparing ${o.clients} PIs with a complete draft each in a call of their own`);
  const fixture = await prepareSurge(o.databaseUrl, o.clients);
  try {
    const submitLat: number[] = [];
    const allLat: number[] = [];
    let submitted = 0;
    let withdrawals = 0;
    let errors = 0;
    const errorKinds = new Set<string>();
    const fail = (what: string) => {
      errors++;
      if (errorKinds.size < 8) errorKinds.add(what);
    };

    const request = async (jar: Jar, method: 'GET' | 'POST', path: string, form?: Record<string, string>) => {
      const t0 = performance.now();
      const res = await fetch(`${o.base}${path}`, {
        method,
        redirect: 'manual',
        signal: AbortSignal.timeout(TIMEOUT_MS),
        headers: { Cookie: jar.header, ...(form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) },
        body: form ? new URLSearchParams(form).toString() : undefined,
      });
      const text = await res.text();
      const ms = performance.now() - t0;
      jar.update(res);
      return { res, text, ms };
    };
    const submitPage = async (jar: Jar, id: number) => {
      const r = await request(jar, 'GET', `/proposals/${id}/edit/submit`);
      const key = /name="idempotencyKey" value="([^"]+)"/.exec(r.text)?.[1];
      const csrf = /name="_csrf" value="([^"]+)"/.exec(r.text)?.[1];
      return { ...r, key, csrf };
    };

    // Sign everyone in and open each submit step before the window (a PI has the page open at the deadline).
    o.log(`surge: signing in ${o.clients} PIs (POST /login with CSRF) and opening their submit steps`);
    const clients: Array<{ jar: Jar; id: number; key: string; csrf: string }> = [];
    await pool(fixture.pis, 16, async (pi) => {
      const jar = new Jar(await signIn(o.base, pi.email, SURGE_PASSWORD));
      const p = await submitPage(jar, pi.proposalId);
      if (p.res.status !== 200 || !p.key || !p.csrf) throw new Error(`surge: GET /proposals/${pi.proposalId}/edit/submit as ${pi.email}: status ${p.res.status}, no submit form`);
      clients.push({ jar, id: pi.proposalId, key: p.key, csrf: p.csrf });
    });

    o.log(`surge: ${o.clients} PIs submitting (submit → withdraw → submit again) for ${o.seconds} s`);
    const t0 = performance.now();
    const end = t0 + o.seconds * 1000;
    const client = async (c: (typeof clients)[number]) => {
      let { key, csrf } = c;
      while (performance.now() < end) {
        try {
          const s = await request(c.jar, 'POST', `/proposals/${c.id}/submit`, { _csrf: csrf, idempotencyKey: key });
          submitLat.push(s.ms);
          allLat.push(s.ms);
          const flashes = flashKeys(s.res);
          if (s.res.status !== 303 || !flashes.includes('proposals:submit.done')) {
            fail(`submit: ${s.res.status} ${flashes.join(',')}`.trim());
            await new Promise((r) => setTimeout(r, 50));
          } else submitted++;
          if (performance.now() >= end) break;
          // Withdraw (only when the proposal is submitted now) and take a fresh key from the submit step.
          if (s.res.status === 303) {
            const w = await request(c.jar, 'POST', `/proposals/${c.id}/withdraw`, { _csrf: csrf });
            allLat.push(w.ms);
            if (w.res.status === 303) withdrawals++;
            else fail(`withdraw: ${w.res.status}`);
          }
          const p = await submitPage(c.jar, c.id);
          allLat.push(p.ms);
          if (p.res.status !== 200 || !p.key || !p.csrf) {
            fail(`submit page: ${p.res.status}`);
            await new Promise((r) => setTimeout(r, 50));
            continue;
          }
          key = p.key;
          csrf = p.csrf;
        } catch (e) {
          fail(e instanceof Error && e.name === 'TimeoutError' ? 'timeout' : `network: ${e instanceof Error ? e.message : String(e)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const { app } = await withCpu(o.appPid, async () => ({ done: await Promise.all(clients.map(client)) }));
    const seconds = (performance.now() - t0) / 1000;
    const stored = await fixture.storedSubmissions();
    submitLat.sort((a, b) => a - b);
    allLat.sort((a, b) => a - b);
    const r = (v: number) => Math.round(v * 10) / 10;
    return {
      clients: clients.length,
      seconds: r(seconds),
      submitted,
      stored,
      lost: submitted - stored,
      errors,
      errorKinds: [...errorKinds],
      submit_p50_ms: r(percentile(submitLat, 50)),
      submit_p99_ms: r(percentile(submitLat, 99)),
      submit_max_ms: r(submitLat[submitLat.length - 1] ?? 0),
      submit_requests: submitLat.length,
      withdrawals,
      all_p99_ms: r(percentile(allLat, 99)),
      submits_per_s: r(submitted / seconds),
      app,
    };
  } finally {
    await fixture.close();
  }
}

// ---- measurements -------------------------------------------------------------------------------------

export const SURGE_CLIENTS = 200;
export const SURGE_SECONDS = 15;

const surge = (ctx: BenchContext) =>
  ctx.probe('surge', () => runSurge({ base: ctx.base, appPid: ctx.appPid, databaseUrl: ctx.databaseUrl, clients: SURGE_CLIENTS, seconds: SURGE_SECONDS, log: ctx.log }));

const common = (s: Surge) => ({ clients: s.clients, window_s: s.seconds, submitted: s.submitted, stored: s.stored, errors: s.errors, submit_requests: s.submit_requests });

export const surgeMeasurements: Measurement[] = [
  {
    name: 'surge_submit_rps',
    unit: 'req/s',
    async run(ctx) {
      const s = await surge(ctx);
      return { value: s.submits_per_s, ...common(s), withdrawals: s.withdrawals, app_cpu: s.app.cpu, app_cpu_wait: s.app.waiting, note: `new submissions/s, ${SURGE_CLIENTS} PIs submit→withdraw→submit for ${SURGE_SECONDS} s` };
    },
  },
  {
    name: 'surge_submit_p99_ms',
    unit: 'ms',
    target: { max: 250 },
    async run(ctx) {
      const s = await surge(ctx);
      return { value: s.submit_p99_ms, p50_ms: s.submit_p50_ms, max_ms: s.submit_max_ms, loop_p99_ms: s.all_p99_ms, ...common(s), note: `POST /proposals/:id/submit p99 with ${SURGE_CLIENTS} PIs` };
    },
  },
  {
    name: 'surge_submit_errors',
    unit: 'count',
    target: { max: 0 },
    async run(ctx) {
      const s = await surge(ctx);
      return { value: s.errors, ...common(s), ...(s.errorKinds.length ? { error_kinds: s.errorKinds } : {}), note: '5xx, timeouts, unexpected answers during the surge' };
    },
  },
  {
    name: 'surge_submit_lost',
    unit: 'count',
    target: { max: 0 },
    async run(ctx) {
      const s = await surge(ctx);
      return { value: s.lost, ...common(s), note: 'answered "submitted" − rows in proposal_submissions' };
    },
  },
];
