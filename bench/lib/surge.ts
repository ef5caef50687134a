/**
 * The deadline surge: N virtual PIs (default 200), each signed in through the real POST /login with its own
 * cookies and CSRF token and with its complete draft's submit step open, submit for the window (default 15 s):
 * submit → (the browser follows the redirect to the receipt) → withdraw → (redirect: the submit step with a
 * fresh idempotency key) → submit again … Every submission that answers "submitted" is a real new submission
 * with its own receipt.
 *
 * Two ways to drive it:
 *  - as people (the target): every PI's first click falls in the first second of the window — 200 submits
 *    in one second, the deadline herd — and between two clicks a PI reads the page for 1–3 s (uniform), as
 *    people do; the load is what 200 fast PIs make, and p99 shows how long one of them waits.
 *  - saturated (capacity): no think time, 200 closed loops. By Little's law each request then waits about
 *    200 ÷ throughput whatever the server does, so this run reports capacity (submissions/s), not latency.
 *
 * Before the window, a warm-up (not measured): each PI submits and withdraws once, a few at a time — the server
 * meeting a real deadline has served these pages all week, and a fresh process would otherwise be measured
 * compiling them.
 *
 * Afterwards the rows in proposal_submissions are counted: lost = answered as submitted − stored (must be 0).
 * Errors are 5xx, timeouts, network errors and any answer a browser would not expect (4xx, a wrong flash).
 */
import http from 'node:http';
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
  /** Think time between a PI's clicks, uniform in [min, max) ms; null: none (closed loops, capacity). */
  thinkMs: [number, number] | null;
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
  /** Submits sent in the window's first HERD_MS (with think time: the first clicks, all within 1 s), and the rest. */
  herd: LatencySummary;
  after_herd: LatencySummary;
  withdrawals: number;
  /** p99 over every request of the loop (submit page, submit, withdraw). */
  all_p99_ms: number;
  submits_per_s: number;
  /** The app's CPU use (cores) during the window, and time runnable without a CPU. */
  app: PhaseCpu;
}

const TIMEOUT_MS = 10_000;
const HERD_MS = 2000;

interface LatencySummary {
  requests: number;
  p50_ms: number;
  p99_ms: number;
}
const WARM_UP_WIDTH = 8;

/** What the surge reads of an answer. */
interface Answer {
  status: number;
  location: string | null;
  setCookie: string[];
}

/**
 * The PIs' browsers: node:http over keep-alive sockets. The load generator shares the machine's two cores with the
 * app and the database, so it must cost little: `fetch` took about 0.95 ms of CPU per request here, as much as a
 * page costs the app, and took that CPU from the app under test during the herd.
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

function send(base: string, method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string): Promise<{ res: Answer; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, agent, headers: body === undefined ? headers : { ...headers, 'Content-Length': String(Buffer.byteLength(body)) }, signal: AbortSignal.timeout(TIMEOUT_MS) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const setCookie = res.headers['set-cookie'] ?? [];
        resolve({ res: { status: res.statusCode ?? 0, location: res.headers.location ?? null, setCookie }, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

class Jar {
  private readonly cookies = new Map<string, string>();
  constructor(header: string) {
    for (const c of header.split('; ').filter(Boolean)) this.cookies.set(c.split('=')[0]!, c);
  }
  /** Keep what the server sets, except the one-shot flash cookie (read separately). */
  update(res: Answer): void {
    for (const raw of res.setCookie) {
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
function flashKeys(res: Answer): string[] {
  const raw = res.setCookie
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
    // Submits sent in the first two seconds (paced: every PI's first click, the herd) and after them.
    const herdLat: number[] = [];
    const laterLat: number[] = [];
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
      const { res, text } = await send(o.base, method, path, { Cookie: jar.header, ...(form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) }, form ? new URLSearchParams(form).toString() : undefined);
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

    // The week before the deadline: every PI has submitted and withdrawn once already, a few at a time, so the
    // server that meets the herd has run these pages before (as a server in service has), instead of compiling
    // them under the herd. Not measured; its submissions are subtracted from the stored count.
    o.log(`surge: warm-up, each PI submits, reads the receipt and withdraws once, ${WARM_UP_WIDTH} at a time (not measured)`);
    await pool(clients, WARM_UP_WIDTH, async (c) => {
      const s = await request(c.jar, 'POST', `/proposals/${c.id}/submit`, { _csrf: c.csrf, idempotencyKey: c.key });
      if (s.res.status !== 303 || !flashKeys(s.res).includes('proposals:submit.done')) throw new Error(`surge warm-up: submit of ${c.id}: ${s.res.status}`);
      await request(c.jar, 'GET', s.res.location!);
      const w = await request(c.jar, 'POST', `/proposals/${c.id}/withdraw`, { _csrf: c.csrf });
      if (w.res.status !== 303) throw new Error(`surge warm-up: withdraw of ${c.id}: ${w.res.status}`);
      const p = await submitPage(c.jar, c.id);
      if (p.res.status !== 200 || !p.key || !p.csrf) throw new Error(`surge warm-up: submit page of ${c.id}: ${p.res.status}`);
      c.key = p.key;
      c.csrf = p.csrf;
    });
    const storedBefore = await fixture.storedSubmissions();

    const paced = o.thinkMs !== null;
    o.log(`surge: ${o.clients} PIs submitting (submit → withdraw → submit again) for ${o.seconds} s, ${paced ? `thinking ${o.thinkMs![0]}–${o.thinkMs![1]} ms between clicks` : 'no think time (saturated)'}`);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const think = () => (o.thinkMs ? sleep(o.thinkMs[0] + Math.random() * (o.thinkMs[1] - o.thinkMs[0])) : Promise.resolve());
    const t0 = performance.now();
    const end = t0 + o.seconds * 1000;
    const client = async (c: (typeof clients)[number]) => {
      let { key, csrf } = c;
      // People at a deadline: everyone's first click falls within the first second.
      if (paced) await sleep(Math.random() * 1000);
      while (performance.now() < end) {
        try {
          const s = await request(c.jar, 'POST', `/proposals/${c.id}/submit`, { _csrf: csrf, idempotencyKey: key });
          submitLat.push(s.ms);
          (performance.now() - s.ms - t0 < HERD_MS ? herdLat : laterLat).push(s.ms);
          allLat.push(s.ms);
          const flashes = flashKeys(s.res);
          if (s.res.status !== 303 || !flashes.includes('proposals:submit.done')) {
            fail(`submit: ${s.res.status} ${flashes.join(',')}`.trim());
            await sleep(50);
          } else submitted++;
          // The browser shows the receipt (the redirect's page), the PI reads it, then withdraws.
          if (s.res.status === 303) allLat.push((await request(c.jar, 'GET', s.res.location!)).ms);
          await think();
          if (performance.now() >= end) break;
          if (s.res.status === 303) {
            const w = await request(c.jar, 'POST', `/proposals/${c.id}/withdraw`, { _csrf: csrf });
            allLat.push(w.ms);
            if (w.res.status === 303) withdrawals++;
            else fail(`withdraw: ${w.res.status}`);
          }
          // The submit step again (the withdrawal's redirect), with a fresh key; the PI reads it and submits.
          const p = await submitPage(c.jar, c.id);
          allLat.push(p.ms);
          if (p.res.status !== 200 || !p.key || !p.csrf) {
            fail(`submit page: ${p.res.status}`);
            await sleep(50);
            continue;
          }
          key = p.key;
          csrf = p.csrf;
          await think();
        } catch (e) {
          fail(e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError') ? 'timeout' : `network: ${e instanceof Error ? e.message : String(e)}`);
          await sleep(50);
        }
      }
    };
    const { app } = await withCpu(o.appPid, async () => ({ done: await Promise.all(clients.map(client)) }));
    const seconds = (performance.now() - t0) / 1000;
    const stored = (await fixture.storedSubmissions()) - storedBefore;
    for (const l of [submitLat, herdLat, laterLat]) l.sort((a, b) => a - b);
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
      herd: { requests: herdLat.length, p50_ms: r(percentile(herdLat, 50)), p99_ms: r(percentile(herdLat, 99)) },
      after_herd: { requests: laterLat.length, p50_ms: r(percentile(laterLat, 50)), p99_ms: r(percentile(laterLat, 99)) },
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
/** How long a PI looks at a page before the next click (uniform, ms). */
export const SURGE_THINK_MS: [number, number] = [1000, 3000];
const SATURATED_SECONDS = 8;

const surge = (ctx: BenchContext) =>
  ctx.probe('surge', () => runSurge({ base: ctx.base, appPid: ctx.appPid, databaseUrl: ctx.databaseUrl, clients: SURGE_CLIENTS, seconds: SURGE_SECONDS, thinkMs: SURGE_THINK_MS, log: ctx.log }));
const saturated = (ctx: BenchContext) =>
  ctx.probe('surge-saturated', () => runSurge({ base: ctx.base, appPid: ctx.appPid, databaseUrl: ctx.databaseUrl, clients: SURGE_CLIENTS, seconds: SATURATED_SECONDS, thinkMs: null, log: ctx.log }));

const MODEL = `${SURGE_CLIENTS} PIs, first clicks within 1 s, ${SURGE_THINK_MS[0] / 1000}–${SURGE_THINK_MS[1] / 1000} s reading each page, submit→withdraw→submit for ${SURGE_SECONDS} s`;
const common = (s: Surge) => ({ clients: s.clients, window_s: s.seconds, submitted: s.submitted, stored: s.stored, errors: s.errors, submit_requests: s.submit_requests });

export const surgeMeasurements: Measurement[] = [
  {
    name: 'surge_submit_rps',
    unit: 'req/s',
    async run(ctx) {
      const s = await surge(ctx);
      return { value: s.submits_per_s, ...common(s), withdrawals: s.withdrawals, app_cpu: s.app.cpu, app_cpu_wait: s.app.waiting, note: `new submissions/s; ${MODEL}` };
    },
  },
  {
    name: 'surge_submit_p99_ms',
    unit: 'ms',
    target: { max: 250 },
    async run(ctx) {
      const s = await surge(ctx);
      return { value: s.submit_p99_ms, p50_ms: s.submit_p50_ms, max_ms: s.submit_max_ms, loop_p99_ms: s.all_p99_ms, first_2s: s.herd, after_2s: s.after_herd, ...common(s), note: `POST /proposals/:id/submit p99; ${MODEL}` };
    },
  },
  {
    name: 'surge_submit_errors',
    unit: 'count',
    target: { max: 0 },
    async run(ctx) {
      const s = await surge(ctx);
      return { value: s.errors, ...common(s), ...(s.errorKinds.length ? { error_kinds: s.errorKinds } : {}), note: `5xx, timeouts, unexpected answers; ${MODEL}` };
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
  {
    name: 'surge_submit_saturated_rps',
    unit: 'req/s',
    async run(ctx) {
      const s = await saturated(ctx);
      return {
        value: s.submits_per_s,
        p99_ms: s.submit_p99_ms,
        lost: s.lost,
        ...common(s),
        app_cpu: s.app.cpu,
        note: `capacity: new submissions/s with ${SURGE_CLIENTS} closed loops and no think time (latency there is ≈ clients ÷ throughput by Little's law)`,
      };
    },
  },
];
