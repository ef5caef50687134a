/**
 * Audit trail: every mutation writes one AuditEvent in the same transaction as the change.
 * The table is append-only (database triggers refuse UPDATE and DELETE); this module only inserts.
 * Admins browse it through audit-routes.ts.
 */
import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize, type Transaction } from 'sequelize';
import { sqlOf } from './sql.js';

export class AuditEvent extends Model<InferAttributes<AuditEvent>, InferCreationAttributes<AuditEvent>> {
  declare id: CreationOptional<number>;
  declare actorId: number | null;
  declare action: string;
  declare entityType: string;
  declare entityId: string | null;
  declare beforeJson: string | null;
  declare afterJson: string | null;
  declare ip: string | null;
  declare requestId: string | null;
  declare createdAt: CreationOptional<Date>;
}

export function initAuditModel(sequelize: Sequelize): void {
  AuditEvent.init(
    {
      id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
      actorId: { type: DataTypes.INTEGER, allowNull: true },
      action: { type: DataTypes.STRING(64), allowNull: false },
      entityType: { type: DataTypes.STRING(64), allowNull: false },
      entityId: { type: DataTypes.STRING(64), allowNull: true },
      beforeJson: { type: DataTypes.TEXT, allowNull: true },
      afterJson: { type: DataTypes.TEXT, allowNull: true },
      ip: { type: DataTypes.STRING(64), allowNull: true },
      requestId: { type: DataTypes.STRING(64), allowNull: true },
      createdAt: DataTypes.DATE,
    },
    { sequelize, tableName: 'audit_events', underscored: true, updatedAt: false },
  );
}

/** Who acted and from where; built from the request by `auditContext(req)`. */
export interface AuditContext {
  actorId: number | null;
  ip: string | null;
  requestId: string | null;
}

export const SYSTEM: AuditContext = { actorId: null, ip: null, requestId: null };

const SECRET_FIELDS = /password|token|secret|hash/i;

/** A JSON snapshot without secrets (password hashes, tokens). */
export function snapshot(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const plain = typeof (value as { toJSON?: () => unknown }).toJSON === 'function' ? (value as { toJSON: () => unknown }).toJSON() : value;
  return JSON.stringify(plain, (k, v) => (k && SECRET_FIELDS.test(k) ? '[redacted]' : v));
}

export async function audit(
  t: Transaction,
  ctx: AuditContext,
  e: { action: string; entityType: string; entityId?: string | number | null; before?: unknown; after?: unknown },
): Promise<void> {
  // Plain SQL (sql.ts): every command of the app writes one, in its transaction.
  await sqlOf(AuditEvent.sequelize!).run(
    'INSERT INTO audit_events (actor_id, action, entity_type, entity_id, before_json, after_json, ip, request_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    [ctx.actorId, e.action, e.entityType, e.entityId === undefined || e.entityId === null ? null : String(e.entityId), snapshot(e.before), snapshot(e.after), ctx.ip, ctx.requestId, new Date()],
    t,
  );
}
