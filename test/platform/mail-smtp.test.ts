/**
 * Delivery against a real SMTP server (smtp-server on 127.0.0.1): the peer down, back, slow or refusing;
 * every message is delivered once it can be, never lost, never sent twice.
 */
import { expect } from 'chai';
import { withTransaction } from '../../server/platform/db.js';
import { OutboxMessage, queueMail } from '../../server/platform/mail/outbox.js';
import { MAX_ATTEMPTS, type OutboxWorker } from '../../server/platform/mail/worker.js';
import { platform } from '../support/platform.js';
import { SmtpSink, waitUntil, workerFor, useSmtpSink } from '../support/smtp.js';

async function queue(n: number, prefix = 'r'): Promise<OutboxMessage[]> {
  const { sequelize } = await platform();
  return withTransaction(sequelize, async (t) => {
    const out: OutboxMessage[] = [];
    for (let i = 0; i < n; i++) {
      out.push(await queueMail(t, { to: { address: `${prefix}${i}@example.org`, name: `收件人${i}` }, template: 'password-reset', lang: 'zh-CN', data: { name: `收件人${i}`, resetUrl: `http://127.0.0.1:3000/password/reset/x${i}`, minutes: 60 } }));
    }
    return out;
  });
}

const reload = async (m: OutboxMessage) => (await OutboxMessage.findByPk(m.id))!;
const HOUR = 3600_000;

describe('mail delivery with the SMTP peer down, slow or refusing', () => {
  const smtp = useSmtpSink({ backoffBaseMs: 30_000 });
  let sink: SmtpSink;
  let worker: OutboxWorker;
  beforeEach(() => ({ sink, worker } = smtp));

  it('SMTP down: the failure is recorded and retried after the back-off; once the peer is back it is delivered exactly once', async () => {
    const [m] = await queue(1);
    const port = sink.port;
    await sink.stop();

    const t0 = new Date();
    expect(await worker.runOnce(t0)).to.equal(0);
    let row = await reload(m!);
    expect(row.status).to.equal('pending');
    expect(row.attempts).to.equal(1);
    expect(row.lastError).to.match(/ECONNREFUSED|connect/i);
    expect(row.nextAttemptAt.getTime()).to.be.greaterThan(t0.getTime() + 29_000);
    expect(row.sentAt).to.equal(null);

    await sink.start();
    expect(sink.port, 'restarted on the same port').to.equal(port);
    // Not due yet: the back-off holds even though the peer is back.
    expect(await worker.runOnce(new Date(t0.getTime() + 10_000))).to.equal(0);
    expect(sink.received).to.have.length(0);

    const later = new Date(row.nextAttemptAt.getTime() + 1000);
    expect(await worker.runOnce(later)).to.equal(1);
    row = await reload(m!);
    expect(row.status).to.equal('sent');
    expect(row.attempts).to.equal(2);
    expect(row.lastError).to.equal(null);
    expect(sink.withMessageId(m!.messageId)).to.have.length(1);

    for (const at of [later, new Date(later.getTime() + HOUR), new Date(later.getTime() + 48 * HOUR)]) expect(await worker.runOnce(at)).to.equal(0);
    expect(sink.received, 'never sent twice').to.have.length(1);
  });

  it('a temporary refusal (451) is retried and the message arrives once', async () => {
    const [m] = await queue(1);
    sink.rejectNext = 1;
    const t0 = new Date();
    expect(await worker.runOnce(t0)).to.equal(0);
    const row = await reload(m!);
    expect(row.status).to.equal('pending');
    expect(row.lastError).to.contain('451');
    expect(await worker.runOnce(new Date(row.nextAttemptAt.getTime() + 1))).to.equal(1);
    expect(sink.withMessageId(m!.messageId)).to.have.length(1);
    expect(sink.received).to.have.length(1);
  });

  it('backs off exponentially and gives up after MAX_ATTEMPTS: the message is dead and no longer tried', async () => {
    const [m] = await queue(1);
    await sink.stop();
    let now = new Date();
    const gaps: number[] = [];
    for (let i = 1; i <= MAX_ATTEMPTS; i++) {
      await worker.runOnce(now);
      const row = await reload(m!);
      expect(row.attempts).to.equal(i);
      expect(row.status).to.equal(i < MAX_ATTEMPTS ? 'pending' : 'dead');
      gaps.push(row.nextAttemptAt.getTime() - now.getTime());
      now = new Date(row.nextAttemptAt.getTime() + 1000);
    }
    expect(gaps[1]! / gaps[0]!).to.be.within(1.9, 2.1);
    await sink.start();
    expect(await worker.runOnce(new Date(now.getTime() + 24 * HOUR))).to.equal(0);
    expect(sink.received).to.have.length(0);
  });

  it('two workers polling the same outbox at once deliver every message exactly once', async () => {
    const messages = await queue(12);
    const other = await workerFor(sink);
    try {
      const [a, b] = await Promise.all([worker.runOnce(), other.runOnce()]);
      expect(a + b).to.equal(12);
    } finally {
      await other.stop();
    }
    for (const m of messages) expect(sink.withMessageId(m.messageId), m.toAddress).to.have.length(1);
    expect(await OutboxMessage.count({ where: { status: 'sent' } })).to.equal(12);
  });

  it('a claim that expires behind a slow peer is not sent again by a second worker', async function () {
    this.timeout(30_000);
    const messages = await queue(3);
    sink.delayMs = 2500; // each message takes 2.5 s to be accepted
    const slow = await workerFor(sink, { claimMs: 60_000 });
    const late = await workerFor(sink, { claimMs: 60_000 });
    try {
      const first = slow.runOnce();
      // The slow worker has delivered the first message and is now sending the second.
      await waitUntil(() => sink.received.length >= 1);
      await new Promise((r) => setTimeout(r, 200));
      // A second worker whose clock is past the original batch claim (as if that claim had expired while
      // the first worker was still busy): it may take over what the first has not started, nothing else.
      const third = await reload(messages[2]!);
      // (+1.1 s: MariaDB compares a DATETIME column at whole seconds.)
      const n = await late.runOnce(new Date(third.lockedUntil!.getTime() + 1100));
      const m = await first;
      expect(n + m).to.equal(3);
    } finally {
      await slow.stop();
      await late.stop();
    }
    for (const msg of messages) expect(sink.withMessageId(msg.messageId), msg.toAddress).to.have.length(1);
    expect(sink.received).to.have.length(3);
  });
});
