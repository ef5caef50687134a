/**
 * Sends the outbox after commit. Rows are claimed (MySQL: FOR UPDATE SKIP LOCKED, so several processes can
 * run workers), sent with their stable Message-ID, and marked sent; a failure schedules a retry with
 * exponential back-off, and after MAX_ATTEMPTS the row is dead (shown on the admin page). A claim expires,
 * so a process that died mid-send does not strand its rows.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import { Op, QueryTypes, type Sequelize } from 'sequelize';
import type { Logger } from 'pino';
import { withTransaction } from '../db.js';
import { OutboxMessage } from './outbox.js';

export const MAX_ATTEMPTS = 8;
const CLAIM_MS = 2 * 60_000;
const BATCH = 20;

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
  transport?: Transporter;
}

export class OutboxWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private again = false;
  private stopped = false;
  readonly transport: Transporter | null;

  constructor(private readonly o: WorkerOptions) {
    this.transport = o.transport ?? (o.smtpUrl ? nodemailer.createTransport(o.smtpUrl) : null);
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
      const rows = await sequelize.query<{ id: number }>(
        `SELECT id FROM outbox_messages WHERE ((status = 'pending' AND next_attempt_at <= ?) OR (status = 'sending' AND locked_until < ?)) ORDER BY id LIMIT ${BATCH}${lock}`,
        { replacements: [now, now], type: QueryTypes.SELECT, transaction: t },
      );
      const ids = rows.map((r) => r.id);
      if (!ids.length) return [];
      await OutboxMessage.update({ status: 'sending', lockedUntil: new Date(now.getTime() + CLAIM_MS) }, { where: { id: { [Op.in]: ids } }, transaction: t });
      return OutboxMessage.findAll({ where: { id: { [Op.in]: ids } }, order: [['id', 'ASC']], transaction: t });
    });
  }

  /** One pass: claim due messages and try each once. Returns how many were sent. */
  async runOnce(now = new Date()): Promise<number> {
    if (!this.transport) return 0;
    let sent = 0;
    for (const m of await this.claim(now)) {
      try {
        await this.transport.sendMail({
          from: this.o.from,
          to: { name: m.toName ?? '', address: m.toAddress },
          subject: m.subject,
          text: m.textBody,
          html: m.htmlBody,
          messageId: m.messageId,
        });
        await OutboxMessage.update({ status: 'sent', sentAt: new Date(), lockedUntil: null, attempts: m.attempts + 1, lastError: null }, { where: { id: m.id, status: 'sending' } });
        sent++;
      } catch (e) {
        const attempts = m.attempts + 1;
        const dead = attempts >= MAX_ATTEMPTS;
        await OutboxMessage.update(
          {
            status: dead ? 'dead' : 'pending',
            attempts,
            lockedUntil: null,
            nextAttemptAt: new Date(Date.now() + backoffMs(attempts, this.o.backoffBaseMs ?? 30_000)),
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
