/**
 * A real SMTP server for mail tests (smtp-server on 127.0.0.1): it captures every message it accepts, decodes
 * headers and text/HTML parts, and can be stopped and started again on the same port, so a test can take the
 * peer down while mail is queued and bring it back. Also builds an OutboxWorker pointed at it.
 */
import { SMTPServer } from 'smtp-server';
import type { OutboxWorker as Worker } from '../../server/platform/mail/worker.js';
import { OutboxWorker } from '../../server/platform/mail/worker.js';
import { platform, resetDb } from './platform.js';

export interface ReceivedMail {
  envelopeFrom: string;
  envelopeTo: string[];
  raw: string;
  headers: Record<string, string>;
  messageId: string;
  subject: string;
  to: string;
  text: string;
  html: string;
}

// ---- a small MIME reader (enough for what nodemailer writes) -------------------------------------------

function decodeQp(s: string): Buffer {
  const src = s.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(src.slice(i + 1, i + 3))) {
      bytes.push(parseInt(src.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(c, 'utf8'));
  }
  return Buffer.from(bytes);
}

/** RFC 2047 encoded words (=?UTF-8?B?…?= / =?UTF-8?Q?…?=), adjacent ones joined. */
export function decodeWords(s: string): string {
  return s
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_m, _cs: string, enc: string, text: string) =>
      (enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : decodeQp(text.replace(/_/g, ' '))).toString('utf8'),
    );
}

function splitHead(raw: string): { headers: Record<string, string>; body: string } {
  const at = raw.search(/\r?\n\r?\n/);
  const head = at < 0 ? raw : raw.slice(0, at);
  const body = at < 0 ? '' : raw.slice(at).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { headers, body };
}

function param(header: string, name: string): string | null {
  const m = new RegExp(`${name}="?([^";]+)"?`, 'i').exec(header);
  return m ? m[1]! : null;
}

/** Text and HTML bodies of a (possibly multipart) message, decoded to strings. */
function bodies(raw: string, out: { text: string; html: string } = { text: '', html: '' }) {
  const { headers, body } = splitHead(raw);
  const type = (headers['content-type'] ?? 'text/plain').toLowerCase();
  if (type.startsWith('multipart/')) {
    const boundary = param(headers['content-type']!, 'boundary');
    if (!boundary) return out;
    const parts = body.split(`--${boundary}`).slice(1);
    for (const part of parts) {
      if (part.startsWith('--')) break;
      bodies(part.replace(/^\r?\n/, '').replace(/\r?\n$/, ''), out);
    }
    return out;
  }
  const cte = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const decoded = cte === 'base64' ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8') : cte === 'quoted-printable' ? decodeQp(body).toString('utf8') : body;
  if (type.startsWith('text/html')) out.html += decoded;
  else if (type.startsWith('text/plain')) out.text += decoded;
  return out;
}

export function parseMail(raw: string, envelopeFrom = '', envelopeTo: string[] = []): ReceivedMail {
  const { headers } = splitHead(raw);
  const { text, html } = bodies(raw);
  return {
    envelopeFrom,
    envelopeTo,
    raw,
    headers,
    messageId: headers['message-id'] ?? '',
    subject: decodeWords(headers['subject'] ?? ''),
    to: decodeWords(headers['to'] ?? ''),
    text,
    html,
  };
}

// ---- the server ------------------------------------------------------------------------------------------

export class SmtpSink {
  readonly received: ReceivedMail[] = [];
  port = 0;
  /** Answer the next n messages with a temporary failure (451) instead of accepting them. */
  rejectNext = 0;
  /** Wait this long before accepting each message (a slow peer). */
  delayMs = 0;
  private server: SMTPServer | null = null;

  get running(): boolean {
    return this.server !== null;
  }

  /** Where the app should send: plain SMTP, no STARTTLS (the test server offers none). */
  get url(): string {
    if (!this.port) throw new Error('SMTP sink was never started: no port yet');
    return `smtp://127.0.0.1:${this.port}/?ignoreTLS=true`;
  }

  /** Listen on 127.0.0.1: a random port the first time, the same port on every restart. */
  async start(): Promise<void> {
    if (this.server) return;
    const server = new SMTPServer({
      secure: false,
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      closeTimeout: 500,
      size: 5 * 1024 * 1024,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (this.rejectNext > 0) {
            this.rejectNext--;
            return callback(Object.assign(new Error('try again later'), { responseCode: 451 }));
          }
          const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          const mail = parseMail(Buffer.concat(chunks).toString('utf8'), from, session.envelope.rcptTo.map((r) => r.address));
          setTimeout(() => {
            this.received.push(mail);
            callback();
          }, this.delayMs);
        });
      },
    });
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      const net = server.listen(this.port, '127.0.0.1', () => resolve());
      net.once('error', reject);
    });
    const addr = (server as unknown as { server: import('node:net').Server }).server.address();
    if (addr && typeof addr === 'object') this.port = addr.port;
    this.server = server;
  }

  /** Stop listening and drop open connections; later sends fail with a connection error until start(). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  clear(): void {
    this.received.length = 0;
    this.rejectNext = 0;
    this.delayMs = 0;
  }

  withMessageId(messageId: string): ReceivedMail[] {
    return this.received.filter((m) => m.messageId === messageId);
  }

  to(address: string): ReceivedMail[] {
    return this.received.filter((m) => m.envelopeTo.includes(address));
  }
}

/** A started sink (random port). */
export async function startSmtp(): Promise<SmtpSink> {
  const sink = new SmtpSink();
  await sink.start();
  return sink;
}

/** A sink that has a port but is not listening (the SMTP peer is down). */
export async function stoppedSmtp(): Promise<SmtpSink> {
  const sink = await startSmtp();
  await sink.stop();
  return sink;
}

export const TEST_FROM = '长三角联合攻关平台 <no-reply@yrd-platform.example>';

/** An outbox worker on the test platform's database sending to `sink` (not started: call runOnce). */
export async function workerFor(sink: SmtpSink, o: { backoffBaseMs?: number; claimMs?: number } = {}): Promise<Worker> {
  const { sequelize, logger } = await platform();
  return new OutboxWorker({ sequelize, logger, smtpUrl: sink.url, from: TEST_FROM, intervalMs: 60_000, backoffBaseMs: o.backoffBaseMs ?? 1000, claimMs: o.claimMs });
}

/**
 * Mocha hooks for a suite that sends mail: one sink and worker for the suite, and before each test an empty
 * database, a listening sink and an empty mailbox. Read `sink` and `worker` from the returned object.
 */
export function useSmtpSink(o: { backoffBaseMs?: number } = {}): { sink: SmtpSink; worker: Worker } {
  const ctx = {} as { sink: SmtpSink; worker: Worker };
  before(async () => {
    ctx.sink = await startSmtp();
    ctx.worker = await workerFor(ctx.sink, o);
  });
  after(async () => {
    await ctx.worker.stop();
    await ctx.sink.stop();
  });
  beforeEach(async () => {
    await resetDb();
    await ctx.sink.start();
    ctx.sink.clear();
  });
  return ctx;
}

export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The first http(s) link in a text body whose path starts with `prefix`, as a path (for supertest). */
export function linkPath(text: string, prefix: string): string {
  for (const m of text.matchAll(/https?:\/\/[^\s<>"]+/g)) {
    const u = new URL(m[0]);
    if (u.pathname.startsWith(prefix)) return u.pathname + u.search;
  }
  throw new Error(`no link to ${prefix} in mail:\n${text}`);
}
