/**
 * The named measurements. Each reads shared probes (one load run each, memoised), so ratios compare numbers
 * from the same run. A later issue adds its own entries to MEASUREMENTS (and probes here or in its own file).
 */
import { DEMO_LOGINS } from '../../server/seed/demo.js';
import { assignmentMeasurement } from '../assignment.js';
import { getPage, signIn } from './client.js';
import { cleanLoad, load, type Load } from './load.js';
import { withLoginBurst, type Burst } from './login-burst.js';
import { meets, targetText, type Entry, type Target, type Unit } from './results.js';
import { withCpu, type PhaseCpu } from './threads.js';
import { screeningMeasurements } from './screening.js';
import { surgeMeasurements } from './surge.js';
import { assignmentE2eMeasurement } from './assignment-e2e.js';

type Probed = Load & { app: PhaseCpu };

export interface BenchContext {
  base: string;
  /** The app's process id (its threads' CPU use is read from /proc). */
  appPid: number;
  /** The database the app runs on (the surge prepares its data there). */
  databaseUrl: string;
  seconds: number;
  connections: number;
  /** Run `fn` once per bench run under `key`; later callers get the same result. */
  probe<T>(key: string, fn: () => Promise<T>): Promise<T>;
  log(message: string): void;
}

export interface Measurement {
  name: string;
  unit: Unit;
  target?: Target;
  /** false for a measurement that runs in the bench process without the app (default: it needs the app). */
  needsApp?: boolean;
  run(ctx: BenchContext): Promise<Measured>;
}

/** What a measurement returns: its value and any extra fields worth keeping next to it. */
export interface Measured {
  value: number;
  note?: string;
  [extra: string]: unknown;
}

/** The signed-in user whose home page is measured. */
export const HOME_USER = { email: 'officer.sh@demo.yrd', name: '上海项目主管' };
const WARMUP_SECONDS = 2;

const officerCookie = (ctx: BenchContext) =>
  ctx.probe('officer-cookie', async () => {
    const cookie = await signIn(ctx.base, HOME_USER.email, DEMO_LOGINS.password);
    const page = await getPage(ctx.base, '/', cookie);
    if (page.status !== 200 || !page.text.includes(HOME_USER.name)) throw new Error(`GET / as ${HOME_USER.email} is not the signed-in home page (status ${page.status})`);
    return cookie;
  });

/** GET `path` (warmed up first), checking every answer. */
async function measurePath(ctx: BenchContext, what: string, path: string, o: { cookie?: string; verify?: (b: string) => boolean } = {}): Promise<Probed> {
  const opts = { url: `${ctx.base}${path}`, connections: ctx.connections, headers: o.cookie ? { cookie: o.cookie } : undefined, verify: o.verify };
  ctx.log(`${what}: warm-up ${WARMUP_SECONDS} s, then ${ctx.seconds} s with ${ctx.connections} connections`);
  await load({ ...opts, seconds: WARMUP_SECONDS });
  return withCpu(ctx.appPid, () => cleanLoad(what, { ...opts, seconds: ctx.seconds }));
}

const isHome = (body: string) => body.includes(HOME_USER.name);

const trivial = (ctx: BenchContext) => ctx.probe('trivial', () => measurePath(ctx, 'trivial route GET /healthz', '/healthz'));

const home = (ctx: BenchContext) =>
  ctx.probe('home', async () => measurePath(ctx, `home page GET / as ${HOME_USER.email}`, '/', { cookie: await officerCookie(ctx), verify: isHome }));

export const BURST_CLIENTS = 16;

const burst = (ctx: BenchContext): Promise<Burst<Probed>> =>
  ctx.probe('login-burst', async () => {
    const cookie = await officerCookie(ctx);
    await home(ctx); // the idle figure first, from the same run
    ctx.log(`home page while ${BURST_CLIENTS} clients sign in continuously: ${ctx.seconds} s`);
    const logins = DEMO_LOGINS.users.map((u) => ({ email: u.email, password: DEMO_LOGINS.password }));
    return withLoginBurst({ base: ctx.base, clients: BURST_CLIENTS, logins, rampMs: 1500 }, () =>
      withCpu(ctx.appPid, () =>
        cleanLoad('home page during the sign-in burst', { url: `${ctx.base}/`, connections: ctx.connections, seconds: ctx.seconds, headers: { cookie }, verify: isHome }),
      ),
    );
  });

const r1 = (v: number) => Math.round(v * 10) / 10;
const r3 = (v: number) => Math.round(v * 1000) / 1000;

export const MEASUREMENTS: Measurement[] = [
  {
    name: 'trivial_rps',
    unit: 'req/s',
    async run(ctx) {
      const t = await trivial(ctx);
      return { value: r1(t.rps), path: '/healthz', p99_ms: t.p99_ms, app_cpu: t.app.cpu, note: 'bare route: no session, no view' };
    },
  },
  {
    name: 'home_rps',
    unit: 'req/s',
    async run(ctx) {
      const h = await home(ctx);
      return { value: r1(h.rps), path: '/', user: HOME_USER.email, p50_ms: h.p50_ms, p99_ms: h.p99_ms, app_cpu: h.app.cpu, note: 'signed-in home page' };
    },
  },
  {
    name: 'home_p99_ms',
    unit: 'ms',
    async run(ctx) {
      const h = await home(ctx);
      return { value: h.p99_ms, path: '/', user: HOME_USER.email, note: `p99 latency at ${ctx.connections} connections` };
    },
  },
  {
    name: 'home_ratio',
    unit: 'ratio',
    target: { min: 0.1 },
    async run(ctx) {
      const t = await trivial(ctx);
      const h = await home(ctx);
      return { value: r3(h.rps / t.rps), home_rps: r1(h.rps), trivial_rps: r1(t.rps), note: 'home ÷ trivial, same run' };
    },
  },
  {
    name: 'login_burst_home_ratio',
    unit: 'ratio',
    target: { min: 0.5 },
    async run(ctx) {
      const idle = await home(ctx);
      const b = await burst(ctx);
      return {
        value: r3(b.during.rps / idle.rps),
        idle_home_rps: r1(idle.rps),
        burst_home_rps: r1(b.during.rps),
        burst_home_p99_ms: b.during.p99_ms,
        logins_per_s: r1(b.logins / b.seconds),
        app_cpu_idle: idle.app.cpu,
        app_cpu_burst: b.during.app.cpu,
        app_cpu_wait_burst: b.during.app.waiting,
        login_failures: b.failures,
        clients: BURST_CLIENTS,
        note: `home req/s while ${BURST_CLIENTS} clients sign in ÷ idle`,
      };
    },
  },
  ...screeningMeasurements({ trivial, officerCookie, measurePath, officerEmail: HOME_USER.email }),
  ...surgeMeasurements,
  { ...assignmentMeasurement, needsApp: false },
  assignmentE2eMeasurement,
];

export function finish(m: Measurement, raw: Measured): Entry {
  const { value, ...extra } = raw;
  return { value, unit: m.unit, ...(m.target ? { target: targetText(m.target), met: meets(value, m.target) } : {}), ...extra };
}
