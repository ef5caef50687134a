/**
 * The app under test: compiled with `npm run build`, started as a child process the way `npm start` starts it
 * (dist/server/main.js with the start script's Node flags) on 127.0.0.1 and a random port, against a fresh
 * database (see benchDatabase), migrated and seeded by the app itself on start.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratchDatabase } from '../../test/platform/scratch-db.js';
import { START_ENTRY, startFlags } from '../../test/support/start-script.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BENCH_VAR = path.join(ROOT, 'var', 'bench');

export function build(): void {
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit', timeout: 300_000 });
  if (r.status !== 0) throw new Error('npm run build failed');
}

export interface BenchDatabase {
  url: string;
  dialect: 'sqlite' | 'mysql';
  /** What to print: the URL without credentials. */
  label: string;
  /** Remove the database after the run (a MySQL database the bench created); nothing otherwise. */
  drop(): Promise<void>;
}

/**
 * The database of a run, always a fresh one, so that runs compare: a fresh SQLite file under var/bench/ (kept
 * after the run for inspection), or — when DATABASE_URL points at MySQL/MariaDB — a database of its own created
 * beside the given one with the same credentials (`<database>_bench_<time>`) and dropped after the run. The app
 * migrates and seeds it on start. A run on the given database itself (`reuse`) measures whatever earlier runs
 * left there: each run adds thousands of proposals, and the screening list reads more of them.
 */
export async function benchDatabase(o: { reuse: boolean }): Promise<BenchDatabase> {
  const given = process.env.DATABASE_URL;
  if (given && !given.startsWith('sqlite:')) {
    const label = (url: string) => url.replace(/\/\/[^@]*@/, '//***@');
    if (o.reuse) return { url: given, dialect: 'mysql', label: `${label(given)} (reused as it is)`, drop: async () => {} };
    const db = await scratchDatabase(`bench_${Date.now()}`);
    return { url: db.url, dialect: 'mysql', label: `${label(db.url)} (fresh, dropped afterwards)`, drop: db.drop };
  }
  mkdirSync(BENCH_VAR, { recursive: true });
  const file = path.join(BENCH_VAR, 'bench.sqlite');
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(file + suffix, { force: true });
  const url = `sqlite:${path.relative(ROOT, file)}`;
  return { url, dialect: 'sqlite', label: url, drop: async () => {} };
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

export interface RunningApp {
  base: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  db: BenchDatabase;
  logLevel: string;
  /** Directory for a V8 CPU profile of the app (written when it exits), or null. */
  profileDir: string | null;
  /** Where dist/ is (default: the project); an experiment may run a copy. */
  root?: string;
  /** Extra environment for the app. */
  env?: Record<string, string>;
}

let running: ChildProcess | null = null;

/** Kill the app if the bench dies before stopping it. */
export function killAppNow(): void {
  if (running && running.exitCode === null && running.signalCode === null) running.kill('SIGKILL');
}

export async function startApp(o: StartOptions): Promise<RunningApp> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const logFile = path.join(BENCH_VAR, 'app.log');
  mkdirSync(BENCH_VAR, { recursive: true });
  const log = createWriteStream(logFile);
  // The demo's attachment files of this run go with its database, not into the project's uploads/.
  const uploadDir = path.join(BENCH_VAR, 'uploads');
  rmSync(uploadDir, { recursive: true, force: true });
  const nodeArgs = [...startFlags(o.root ?? ROOT), ...(o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] : [])];
  const child = spawn(process.execPath, [...nodeArgs, START_ENTRY], {
    cwd: o.root ?? ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      BASE_URL: base,
      DATABASE_URL: o.db.url,
      LOG_LEVEL: o.logLevel,
      SEED_DEMO: 'true',
      UPLOAD_DIR: uploadDir,
      WORKERS: '1',
      SESSION_SECRET: 'bench-session-secret-'.padEnd(48, 'b'),
      ...o.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running = child;
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));

  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the app exited with code ${child.exitCode} while starting; see ${path.relative(ROOT, logFile)}`);
    const ok = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the app was not ready within 120 s; see ${path.relative(ROOT, logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }

  return {
    base,
    pid: child.pid!,
    logFile,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(timer);
      }
      running = null;
      await new Promise((r) => log.end(r));
    },
  };
}
