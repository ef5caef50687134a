/**
 * Mail outbox: a message is rendered and written to `outbox_messages` inside the transaction of the change
 * that causes it, so it exists exactly when the change does. The worker (worker.ts) sends it after commit.
 * Templates: views/emails/<template>.text.hbs and .html.hbs, strings from locales/<lang>/mail.json.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize, type Transaction } from 'sequelize';
import { ROOT } from '../../config.js';
import { DEFAULT_LANG, isLang, tFor } from '../i18n.js';
import { sqlOf } from '../sql.js';
import { helpers } from '../views.js';

export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'dead';

export class OutboxMessage extends Model<InferAttributes<OutboxMessage>, InferCreationAttributes<OutboxMessage>> {
  declare id: CreationOptional<number>;
  declare messageId: string;
  declare toAddress: string;
  declare toName: string | null;
  declare template: string;
  declare subject: string;
  declare textBody: string;
  declare htmlBody: string;
  declare status: CreationOptional<OutboxStatus>;
  declare attempts: CreationOptional<number>;
  declare nextAttemptAt: Date;
  declare lockedUntil: CreationOptional<Date | null>;
  declare lastError: CreationOptional<string | null>;
  declare sentAt: CreationOptional<Date | null>;
  declare createdAt: CreationOptional<Date>;
}

export function initOutboxModel(sequelize: Sequelize): void {
  OutboxMessage.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      messageId: { type: DataTypes.STRING(191), allowNull: false },
      toAddress: { type: DataTypes.STRING(254), allowNull: false },
      toName: { type: DataTypes.STRING(100), allowNull: true },
      template: { type: DataTypes.STRING(64), allowNull: false },
      subject: { type: DataTypes.STRING(255), allowNull: false },
      textBody: { type: DataTypes.TEXT, allowNull: false },
      htmlBody: { type: DataTypes.TEXT, allowNull: false },
      status: { type: DataTypes.STRING(16), defaultValue: 'pending' },
      attempts: { type: DataTypes.INTEGER, defaultValue: 0 },
      nextAttemptAt: { type: DataTypes.DATE, allowNull: false },
      lockedUntil: { type: DataTypes.DATE, allowNull: true },
      lastError: { type: DataTypes.STRING(500), allowNull: true },
      sentAt: { type: DataTypes.DATE, allowNull: true },
      createdAt: DataTypes.DATE,
    },
    { sequelize, tableName: 'outbox_messages', underscored: true, updatedAt: false },
  );
}

/** Strict address check: ≤ 254 characters, no CR/LF or other control characters, one @, a dotted domain. */
export function isValidAddress(address: string): boolean {
  return (
    address.length > 0 &&
    address.length <= 254 &&
    !/[\u0000-\u001f\u007f]/.test(address) &&
    /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/.test(address)
  );
}

export class InvalidAddress extends Error {}

const mailHbs = Handlebars.create();
for (const [name, fn] of Object.entries(helpers)) mailHbs.registerHelper(name, fn as Handlebars.HelperDelegate);
const compiled = new Map<string, Handlebars.TemplateDelegate>();

function template(file: string): Handlebars.TemplateDelegate {
  let tpl = compiled.get(file);
  if (!tpl) {
    const src = readFileSync(path.join(ROOT, 'views', 'emails', file), 'utf8');
    tpl = file.endsWith('.text.hbs') ? mailHbs.compile(src, { noEscape: true }) : mailHbs.compile(src);
    compiled.set(file, tpl);
  }
  return tpl;
}

export interface MailRequest {
  to: { address: string; name?: string | null };
  template: string; // views/emails/<template>.{text,html}.hbs, subject at mail:<template>.subject
  lang?: string;
  data: Record<string, unknown>;
}

export function renderMail(req: MailRequest): { subject: string; text: string; html: string } {
  const lang = isLang(req.lang) ? req.lang : DEFAULT_LANG;
  const ctx = { ...req.data, lang, recipientName: req.to.name ?? '' };
  const subject = String(tFor(lang)(`mail:${req.template}.subject`, { ...req.data, interpolation: { escapeValue: false } }));
  const body = template(`${req.template}.html.hbs`)(ctx);
  const html = template('layout.html.hbs')({ ...ctx, subject, body });
  return { subject: subject.replace(/[\r\n]+/g, ' ').slice(0, 255), text: template(`${req.template}.text.hbs`)(ctx), html };
}

/** A message rendered and addressed, ready to be written (render before a short transaction, write inside it). */
export interface PreparedMail {
  messageId: string;
  toAddress: string;
  toName: string | null;
  template: string;
  subject: string;
  textBody: string;
  htmlBody: string;
}

/** Check the address and render the message; throws InvalidAddress. */
export function prepareMail(req: MailRequest, messageDomain = 'yrd-platform'): PreparedMail {
  const address = req.to.address.trim();
  if (!isValidAddress(address)) throw new InvalidAddress(address.slice(0, 50));
  const name = req.to.name ? req.to.name.replace(/[\r\n\u0000-\u001f]/g, ' ').slice(0, 100) : null;
  const { subject, text, html } = renderMail({ ...req, to: { address, name } });
  return { messageId: `<${randomUUID()}@${messageDomain}>`, toAddress: address, toName: name, template: req.template, subject, textBody: text, htmlBody: html };
}

/** Write a message to the outbox inside the caller's transaction (rendered here unless already prepared). */
export async function queueMail(t: Transaction, mail: MailRequest | PreparedMail, messageDomain = 'yrd-platform'): Promise<OutboxMessage> {
  const m = 'messageId' in mail ? mail : prepareMail(mail, messageDomain);
  const now = new Date();
  // Plain SQL (platform/sql.ts): a submit at a deadline writes one inside the writer's short transaction.
  const { lastId } = await sqlOf(OutboxMessage.sequelize!).run(
    "INSERT INTO outbox_messages (message_id, to_address, to_name, template, subject, text_body, html_body, status, attempts, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
    [m.messageId, m.toAddress, m.toName, m.template, m.subject, m.textBody, m.htmlBody, now, now],
    t,
  );
  return OutboxMessage.build({ ...m, id: lastId, status: 'pending', attempts: 0, nextAttemptAt: now, lockedUntil: null, lastError: null, sentAt: null, createdAt: now }, { isNewRecord: false });
}
