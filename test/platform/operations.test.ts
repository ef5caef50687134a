/**
 * Operations: the probes, graceful shutdown of a real server (in-flight requests finish, new connections are
 * refused, the drain is bounded) and the compiled `npm start` entry with WORKERS=2 on a private database.
 */
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import supertest from 'supertest';
import { createApp } from '../../server/app.js';
import { boot } from '../../server/boot.js';
import { ROOT } from '../../server/config.js';
import { createSequelize } from '../../server/platform/db.js';
import { POOL_NICE } from '../../server/platform/passwords.js';
import { DEMO_LOGINS } from '../../server/seed/demo.js';
import { platform, testConfig } from '../support/platform.js';
import { START_ENTRY, startFlags } from '../support/start-script.js';
import { ensureBuilt } from './build.js';
import { scratchDatabase, type ScratchDatabase } from './scratch-db.js';

type Platform = Awaited<ReturnType<typeof boot>>;
const OFFICER = 'officer.sh@demo.yrd';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => (c.destroy(), resolve(false)));
    c.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  socket: net.Socket;
}

/** One request on its own connection (or on `agent`); `body` may be held back with `hold` (see slowPost). */
function send(port: number, o: { method?: string; path: string; headers?: Record<string, string | number>; body?: string; agent?: http.Agent }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: o.method ?? 'GET', path: o.path, headers: o.headers, agent: o.agent ?? false }, (res) => {
      const socket = res.socket;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, socket }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

const cookiesOf = (r: Reply) => ((r.headers['set-cookie'] ?? []) as string[]).map((c) => c.split(';')[0]!).join('; ');

/** The login form's CSRF token and cookie, as a browser gets them. */
async function loginForm(port: number) {
  const page = await send(port, { path: '/login' });
  const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
  if (!token) throw new Error(`no CSRF token on /login (status ${page.status})`);
  return { token, cookie: cookiesOf(page) };
}

/**
 * A sign-in POST whose body arrives in two parts: the server has the request in hand (headers read) but cannot
 * answer until `finish()` sends the rest.
 */
async function slowLogin(port: number, email = OFFICER) {
  const { token, cookie } = await loginForm(port);
  const body = new URLSearchParams({ _csrf: token, email, password: DEMO_LOGINS.password }).toString();
  const split = Math.floor(body.length / 2);
  let finish!: () => void;
  const reply = new Promise<Reply>((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: 'POST', path: '/login', agent: false, headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body), Cookie: cookie } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text, socket: res.socket }));
      },
    );
    req.on('error', reject);
    req.write(body.slice(0, split));
    finish = () => req.end(body.slice(split));
  });
  reply.catch(() => undefined);
  await new Promise((r) => setTimeout(r, 100)); // let the server read the headers
  return { reply, finish };
}

describe('operations', function () {
  this.timeout(120_000);

  describe('probes', () => {
    it('/healthz answers ok without touching the session', async () => {
      const { app } = await platform();
      const res = await supertest(app).get('/healthz');
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ status: 'ok' });
      expect(res.headers['set-cookie']).to.equal(undefined);
    });

    it('/readyz is 200 while the database answers', async () => {
      const { app } = await platform();
      const res = await supertest(app).get('/readyz');
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ status: 'ready' });
    });

    it('/readyz is 503 once the database connection is gone (and /healthz stays 200)', async () => {
      const db = await scratchDatabase('readyz');
      const p = await boot(testConfig({ DATABASE_URL: db.url }), { seed: false, startWorker: false });
      try {
        expect((await supertest(p.app).get('/readyz')).status).to.equal(200);
        await p.sequelize.close();
        const res = await supertest(p.app).get('/readyz');
        expect(res.status).to.equal(503);
        expect(res.body).to.deep.equal({ status: 'unavailable' });
        expect((await supertest(p.app).get('/healthz')).status).to.equal(200);
      } finally {
        await p.shutdown(null).catch(() => undefined);
        await db.drop();
      }
    });

    it('/readyz is 503 when the MySQL server cannot be reached', async () => {
      const port = await freePort();
      const sequelize = createSequelize({ databaseUrl: `mysql://nobody@127.0.0.1:${port}/nothing` });
      const p = await platform();
      const { app } = createApp({ config: testConfig(), sequelize, logger: p.logger, kickOutbox: () => {} });
      try {
        const started = Date.now();
        const res = await supertest(app).get('/readyz');
        expect(res.status).to.equal(503);
        expect(Date.now() - started).to.be.lessThan(6000);
      } finally {
        await sequelize.close();
      }
    });

    it('/readyz is 503 once shutting down, even with the database up', async () => {
      const p = await platform();
      const { app } = createApp({ config: testConfig(), sequelize: p.sequelize, logger: p.logger, kickOutbox: () => {} }, { ready: false });
      expect((await supertest(app).get('/readyz')).status).to.equal(503);
    });

    it('the app renders with the view cache on outside development', async () => {
      const p = await platform();
      const make = (env: string) => createApp({ config: testConfig({ NODE_ENV: env }), sequelize: p.sequelize, logger: p.logger, kickOutbox: () => {} }).app;
      expect(make('production').enabled('view cache')).to.equal(true);
      expect(make('development').enabled('view cache')).to.equal(false);
    });
  });

  describe('graceful shutdown', () => {
    let db: ScratchDatabase;
    let p: Platform;
    let server: http.Server;
    let port: number;

    beforeEach(async () => {
      db = await scratchDatabase('shutdown');
      p = await boot(testConfig({ DATABASE_URL: db.url }), { seed: true, startWorker: false });
      server = p.app.listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      port = (server.address() as AddressInfo).port;
    });
    afterEach(async () => {
      if (server.listening) server.closeAllConnections();
      await p.shutdown(server, 100).catch(() => undefined);
      await db.drop();
    });

    it('finishes the request in flight, refuses new connections and closes idle ones, then closes', async () => {
      const keepAlive = new http.Agent({ keepAlive: true });
      const idle = await send(port, { path: '/healthz', agent: keepAlive });
      expect(idle.status).to.equal(200);
      const idleClosed = new Promise((r) => idle.socket.once('close', r));

      const inFlight = await slowLogin(port);
      let stopped = false;
      const stopping = p.shutdown(server, 10_000).then(() => (stopped = true));

      expect(p.state.ready).to.equal(false);
      expect(await refused(port), 'a new connection was accepted during shutdown').to.equal(true);
      await idleClosed;
      await new Promise((r) => setTimeout(r, 200));
      expect(stopped, 'shutdown finished while a request was still in flight').to.equal(false);

      inFlight.finish();
      const res = await inFlight.reply;
      // The sign-in ran to the end: password checked, session written, cookie set.
      expect(res.status).to.equal(303);
      expect(res.headers.location).to.equal('/');
      expect(cookiesOf(res)).to.match(/yrd\.sid=/);
      await stopping;
      expect(stopped).to.equal(true);
      keepAlive.destroy();
    });

    it('gives up on a request that never finishes once the deadline passes', async () => {
      const stuck = await slowLogin(port);
      const started = Date.now();
      await p.shutdown(server, 300);
      expect(Date.now() - started).to.be.within(250, 3000);
      let failed = false;
      await stuck.reply.catch(() => (failed = true));
      expect(failed, 'the stuck request should have been cut off').to.equal(true);
    });
  });

  describe('password hashing yields to page rendering', () => {
    it('runs argon2 on pool threads at a lower priority than the main thread', async function () {
      if (process.platform !== 'linux') this.skip();
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test', 'platform', 'fixtures', 'pool-priority.ts')], {
        cwd: ROOT,
        env: { ...process.env, UV_THREADPOOL_SIZE: '4' },
        timeout: 60_000,
      });
      const r = JSON.parse(stdout) as { lowered: number; mainNice: number; loweredNice: number[]; cpu: { main: number; lowered: number; other: number } };
      expect(r.lowered).to.equal(4);
      expect(r.mainNice).to.equal(0);
      // The lowest priority: hashing runs on the CPU the pages leave over.
      expect(r.loweredNice).to.deep.equal([POOL_NICE]);
      // Eight argon2 hashes: nearly all of their CPU on the lowered threads, none of it on the main thread.
      expect(r.cpu.lowered).to.be.greaterThan(50);
      expect(r.cpu.lowered / (r.cpu.lowered + r.cpu.other + r.cpu.main)).to.be.greaterThan(0.9);
    });
  });

  describe('npm start (compiled)', () => {
    let db: ScratchDatabase;
    let child: ChildProcess | null = null;

    afterEach(async () => {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await new Promise((r) => child!.once('exit', r));
      }
      child = null;
      await db?.drop();
    });

    it('runs the compiled entry, not tsx, with a young generation sized for serving', () => {
      const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
      expect(startFlags(ROOT)).to.include('--max-semi-space-size=64');
      expect(pkg.scripts.prestart ?? pkg.scripts.prepare).to.match(/build/);
    });

    it('WORKERS=2 serves from two processes sharing sign-ins, and SIGTERM lets the in-flight request finish', async () => {
      await ensureBuilt();
      expect(existsSync(path.join(ROOT, 'dist', 'server', 'main.js'))).to.equal(true);
      db = await scratchDatabase('cluster');
      const port = await freePort();
      // As `npm start` runs it: the start script's Node flags (this also checks that the Node running the suite accepts them).
      const proc = spawn(process.execPath, [...startFlags(ROOT), START_ENTRY], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: db.url, WORKERS: '2', LOG_LEVEL: 'info', SEED_DEMO: 'true', SESSION_SECRET: 'cluster-test-secret-'.padEnd(48, 'x'), BASE_URL: `http://127.0.0.1:${port}` },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = proc;
      let out = '';
      proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
      proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
      const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));

      // Ready within a minute (the primary migrates, worker 1 seeds the demo).
      const deadline = Date.now() + 60_000;
      for (;;) {
        const ready = await send(port, { path: '/readyz' }).catch(() => null);
        if (ready?.status === 200) break;
        if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`never ready:\n${out.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 200));
      }

      // Sign in once, then fresh connections: several processes answer, all know the session.
      const { token, cookie } = await loginForm(port);
      const login = await send(port, { method: 'POST', path: '/login', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie }, body: new URLSearchParams({ _csrf: token, email: OFFICER, password: DEMO_LOGINS.password }).toString() });
      expect(login.status, login.body.slice(0, 300)).to.equal(303);
      const session = cookiesOf(login);
      const pidsServing = () =>
        new Set(
          out
            .split('\n')
            .filter((l) => l.startsWith('{'))
            .map((l) => JSON.parse(l) as { pid: number; req?: { url: string } })
            .filter((l) => l.req?.url === '/')
            .map((l) => l.pid),
        );
      // Round-robin over the workers that listen; the second may still be starting, so allow a few seconds.
      let pids = new Set<number>();
      for (let i = 0; i < 60 && (i < 8 || pids.size < 2); i++) {
        const home = await send(port, { path: '/', headers: { Cookie: session } });
        expect(home.status).to.equal(200);
        expect(home.body).to.contain('上海项目主管');
        await new Promise((r) => setTimeout(r, i < 8 ? 20 : 200));
        pids = pidsServing();
      }
      expect(pids.size, `request logs came from ${[...pids].join(', ')}`).to.equal(2);
      expect(pids.has(proc.pid!)).to.equal(false);
      if (process.platform === 'linux') {
        // Each worker's thread pool (argon2, SQLite, files) runs below its main thread's priority.
        for (const pid of pids) {
          const nices = readdirSync(`/proc/${pid}/task`).map((tid) => {
            const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
            return { main: Number(tid) === pid, nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) };
          });
          expect(nices.find((t) => t.main)!.nice, `main thread of ${pid}`).to.equal(0);
          expect(nices.filter((t) => t.nice === POOL_NICE).length, `lowered threads of ${pid}`).to.be.within(3, 4);
        }
      }

      // SIGTERM while a sign-in is in flight: it completes, then every process exits cleanly.
      const inFlight = await slowLogin(port);
      proc.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      inFlight.finish();
      const res = await inFlight.reply;
      expect(res.status).to.equal(303);
      expect(await exited, out.slice(-3000)).to.equal(0);
      expect(await refused(port)).to.equal(true);
    });
  });
});
