/**
 * Sends the outbox after commit. Rows are claimed (MySQL: FOR UPDATE SKIP LOCKED, so several processes can
 * run workers), sent with their stable Message-ID, and marked sent; a failure schedules a retry with
 * exponential back-off, and after MAX_ATTEMPTS the row is dead (shown on the admin page). A claim expires,
 * so a process that died mid-send does not strand its rows. So that an expired claim never makes two
 * processes send the same message, each message's claim is renewed just before it is sent, only if it is
 * still this worker's (same locked_until, second precision: a later claim is always ≥ claimMs later), and
 * the SMTP timeouts are shorter than a claim.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import { Op, type Sequelize } from 'sequelize';
import type { Logger } from 'pino';
import { withTransaction } from '../db.js';
import { sqlOf } from '../sql.js';
import { OutboxMessage } from './outbox.js';

export const MAX_ATTEMPTS = 8;
const CLAIM_MS = 2 * 60_000;
const BATCH = 20;
/** Each well under CLAIM_MS, so one send cannot outlive the claim taken just before it. */
const SMTP_TIMEOUTS = { connectionTimeout: 20_000, greetingTimeout: 20_000, socketTimeout: 45_000 };

/** A claim deadline in whole seconds (DATETIME on MySQL keeps no milliseconds), so it can be compared exactly. */
const claimUntil = (at: Date, claimMs: number) => new Date(Math.ceil((at.getTime() + claimMs) / 1000) * 1000);

export function backoffMs(attempts: number, baseMs: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempts - 1), 3600_000);
}

export interface WorkerOptions {
  sequelize: Sequelize;
  logger: Logger;
  smtpUrl?: string;
  from: string;
  intervalMs: number;
  backoffBaseMs?: number;
  /** How long a claim lasts (default 2 minutes; at least 1 s). */
  claimMs?: number;
  transport?: Transporter;
}

export class OutboxWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private again = false;
  private stopped = false;
  readonly transport: Transporter | null;

  constructor(private readonly o: WorkerOptions) {
    // Timeouts given here apply unless the URL sets its own (?socketTimeout=…).
    this.transport = o.transport ?? (o.smtpUrl ? nodemailer.createTransport({ ...SMTP_TIMEOUTS, url: o.smtpUrl }) : null);
  }

  private get claimMs(): number {
    return Math.max(1000, this.o.claimMs ?? CLAIM_MS);
  }

  /** True when there is somewhere to send mail; otherwise messages wait in the outbox for an admin to read. */
  get enabled(): boolean {
    return this.transport !== null;
  }

  start(): void {
    if (!this.enabled) return;
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.kick().finally(tick), this.o.intervalMs);
      this.timer.unref();
    };
    tick();
  }

  /** Run a pass now (after a commit that queued mail); coalesces with a pass already running. */
  kick(): Promise<number> {
    if (!this.enabled || this.stopped) return Promise.resolve(0);
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      let total = 0;
      do {
        this.again = false;
        total += await this.runOnce();
      } while (this.again && !this.stopped);
      return total;
    })().finally(() => (this.running = null));
    return this.running;
  }

  /** Stop the timer and wait for the pass in flight (graceful shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => 0);
    this.transport?.close();
  }

  private async claim(now: Date): Promise<OutboxMessage[]> {
    const { sequelize } = this.o;
    return withTransaction(sequelize, async (t) => {
      const lock = sequelize.getDialect() === 'sqlite' ? '' : ' FOR UPDATE SKIP LOCKED';
      // Plain SQL (sql.ts) binds the Date in UTC, as the models store it; Sequelize's own replacements would write
      // it in the server's local time and, on a server set to Asia/Shanghai, ignore back-offs and claims.
      const rows = await sqlOf(sequelize).all<{ id: number }>(
        `SELECT id FROM outbox_messages WHERE ((status = 'pending' AND next_attempt_at <= ?) OR (status = 'sending' AND locked_until < ?)) ORDER BY id LIMIT ${BATCH}${lock}`,
        [now, now],
        t,
      );
      const ids = rows.map((r) => r.id);
      if (!ids.length) return [];
      await OutboxMessage.update({ status: 'sending', lockedUntil: claimUntil(now, this.claimMs) }, { where: { id: { [Op.in]: ids } }, transaction: t });
      return OutboxMessage.findAll({ where: { id: { [Op.in]: ids } }, order: [['id', 'ASC']], transaction: t });
    });
  }

  /**
   * Extend the claim on one message if it is still ours; false when another worker has re-claimed it.
   * The new deadline is always later than the old one: MySQL counts only changed rows as affected.
   */
  private async renew(m: OutboxMessage, at: Date): Promise<boolean> {
    const until = new Date(Math.max(claimUntil(at, this.claimMs).getTime(), m.lockedUntil!.getTime() + 1000));
    const [n] = await OutboxMessage.update({ lockedUntil: until }, { where: { id: m.id, status: 'sending', lockedUntil: m.lockedUntil! } });
    if (n !== 1) return false;
    m.lockedUntil = until;
    return true;
  }

  /**
   * One pass: claim due messages and try each once. Returns how many were sent. `now` is the pass's clock
   * (tests move it forward); time spent in the pass is added to it.
   */
  async runOnce(now = new Date()): Promise<number> {
    if (!this.transport) return 0;
    const started = Date.now();
    const clock = () => new Date(now.getTime() + (Date.now() - started));
    let sent = 0;
    for (const m of await this.claim(now)) {
      if (!(await this.renew(m, clock()))) continue;
      try {
        await this.transport.sendMail({
          from: this.o.from,
          to: { name: m.toName ?? '', address: m.toAddress },
          subject: m.subject,
          text: m.textBody,
          html: m.htmlBody,
          messageId: m.messageId,
        });
        await OutboxMessage.update({ status: 'sent', sentAt: clock(), lockedUntil: null, attempts: m.attempts + 1, lastError: null }, { where: { id: m.id, status: 'sending' } });
        sent++;
      } catch (e) {
        const attempts = m.attempts + 1;
        const dead = attempts >= MAX_ATTEMPTS;
        await OutboxMessage.update(
          {
            status: dead ? 'dead' : 'pending',
            attempts,
            lockedUntil: null,
            nextAttemptAt: new Date(clock().getTime() + backoffMs(attempts, this.o.backoffBaseMs ?? 30_000)),
            lastError: String((e as Error).message ?? e).slice(0, 500),
          },
          { where: { id: m.id, status: 'sending' } },
        );
        this.o.logger.warn({ outboxId: m.id, attempts, dead, err: (e as Error).message }, 'mail delivery failed');
      }
    }
    return sent;
  }
}
