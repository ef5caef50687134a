/**
 * `npm run bench [-- NAME…] [--seconds=N] [--connections=N] [--profile] [--no-build] [--reuse-db] [--list]`
 *
 * Builds the app, starts dist/server/main.js on a fresh seeded database (a SQLite file, or with DATABASE_URL a
 * MySQL/MariaDB database created beside the given one and dropped afterwards; --reuse-db runs on the given
 * database itself, with whatever earlier runs left there), measures the named
 * measurements (all by default) with autocannon against 127.0.0.1, merges them into bench/results.json and
 * prints a table. --profile runs the app with --cpu-prof and prints where its time went.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchDatabase, BENCH_VAR, build, killAppNow, ROOT, startApp } from './lib/app.js';
import { finish, MEASUREMENTS, type BenchContext, type Measurement } from './lib/measurements.js';
import { summarise } from './lib/profile.js';
import { table, targetText, writeResults, type Entry } from './lib/results.js';

const RESULTS = path.join(ROOT, 'bench', 'results.json');
const HARD_LIMIT_MS = 15 * 60_000;

/** An error as a reader of results.json needs it: Sequelize's "Validation error" says nothing without the database's own message. */
function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const x = e as Error & { parent?: { sqlMessage?: string; message?: string }; fields?: unknown };
  const detail = x.parent?.sqlMessage ?? x.parent?.message;
  return [e.message, detail && detail !== e.message ? detail : null, x.fields ? `fields ${JSON.stringify(x.fields)}` : null].filter(Boolean).join(': ');
}

function option(name: string, fallback: number): number {
  const raw = process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--list')) {
    for (const m of MEASUREMENTS) console.log(`${m.name}  (${m.unit})`);
    return 0;
  }
  const names = args.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !MEASUREMENTS.some((m) => m.name === n));
  if (unknown.length) {
    console.error(`unknown measurement(s): ${unknown.join(', ')}; known: ${MEASUREMENTS.map((m) => m.name).join(', ')}`);
    return 2;
  }
  const selected = names.length ? MEASUREMENTS.filter((m) => names.includes(m.name)) : MEASUREMENTS;
  const seconds = option('seconds', 8);
  const connections = option('connections', 10);
  const profileDir = args.includes('--profile') ? path.join(BENCH_VAR, 'prof', String(Date.now())) : null;
  if (profileDir) mkdirSync(profileDir, { recursive: true });

  const log = (m: string) => console.log(`[bench] ${m}`);
  const withApp = selected.filter((m) => m.needsApp !== false);
  const inProcess = selected.filter((m) => m.needsApp === false);
  const fresh: Record<string, Entry> = {};
  // Other work on the machine skews every figure: keep the load average next to them.
  const loadAvg = Math.round(os.loadavg()[0]! * 100) / 100;
  if (loadAvg > 1) log(`warning: load average ${loadAvg} on ${os.cpus().length} CPUs before measuring; figures will be low and noisy`);
  const probes = new Map<string, Promise<unknown>>();
  const ctx: BenchContext = {
    base: '',
    appPid: 0,
    databaseUrl: '',
    seconds,
    connections,
    probe: <T>(key: string, fn: () => Promise<T>) => {
      if (!probes.has(key)) probes.set(key, fn());
      return probes.get(key) as Promise<T>;
    },
    log,
  };
  let dbDialect = 'none';
  const failed: string[] = [];
  // A measurement that cannot be taken is recorded as such (value null, the reason) and the others still run.
  const record = async (m: Measurement) => {
    let entry: Entry;
    try {
      entry = finish(m, await m.run(ctx));
    } catch (e) {
      const error = describeError(e);
      log(`${m.name} failed: ${error}`);
      failed.push(m.name);
      entry = { value: null, unit: m.unit, ...(m.target ? { target: targetText(m.target), met: false } : {}), error };
    }
    // The Node version goes with every figure: the app runs on the bench's own Node, and the ratios move with it
    // (Express's per-request cost, most of the trivial route, is several times lower on Node 24 than on 20).
    fresh[m.name] = { ...entry, ...(m.needsApp === false ? {} : { database: dbDialect, connections, seconds }), node: process.version, load_avg_1m: entry.load_avg_1m ?? loadAvg, measured_at: new Date().toISOString() };
  };

  if (withApp.length) {
    if (args.includes('--no-build')) log('--no-build: using dist/ as it is');
    else {
      log('npm run build');
      build();
    }
    const db = await benchDatabase({ reuse: args.includes('--reuse-db') });
    dbDialect = db.dialect;
    ctx.databaseUrl = db.url;
    const logLevel = 'warn';
    log(`starting dist/server/main.js on ${db.label} (LOG_LEVEL=${logLevel}, NODE_ENV=production, 1 worker${profileDir ? ', --cpu-prof' : ''})`);
    const app = await startApp({ db, logLevel, profileDir });
    log(`ready at ${app.base} (pid ${app.pid}); node ${process.version}, ${os.cpus().length} CPUs`);
    ctx.base = app.base;
    ctx.appPid = app.pid;
    try {
      for (const m of withApp) await record(m);
    } finally {
      await app.stop();
      await db.drop();
    }
  }
  // Measurements without the app run after it has stopped, so they have the machine to themselves.
  for (const m of inProcess) await record(m);

  writeResults(RESULTS, fresh);
  console.log(`\n${table(fresh)}\n\nwritten to ${path.relative(process.cwd(), RESULTS)}`);
  const missed = Object.entries(fresh).filter(([, e]) => e.met === false && e.value !== null);
  if (failed.length) console.log(`\nnot measured: ${failed.join(', ')}`);
  if (missed.length) console.log(`\ntarget missed: ${missed.map(([n, e]) => `${n} = ${e.value} (target ${e.target})`).join(', ')}`);

  if (profileDir) {
    const profiles = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
    const text = profiles.map((f) => summarise(path.join(profileDir, f))).join('\n\n');
    writeFileSync(path.join(BENCH_VAR, 'profile.txt'), text + '\n');
    console.log(`\n${text}\n\n(profile summary also in ${path.relative(process.cwd(), path.join(BENCH_VAR, 'profile.txt'))})`);
  }
  return failed.length ? 1 : 0;
}

const watchdog = setTimeout(() => {
  console.error(`[bench] still running after ${HARD_LIMIT_MS / 60_000} min: stopping`);
  killAppNow();
  process.exit(3);
}, HARD_LIMIT_MS);
watchdog.unref();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killAppNow();
    process.exit(130);
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    killAppNow();
    console.error(`[bench] failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  },
);
