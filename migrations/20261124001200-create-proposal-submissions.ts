import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { fk, id } from './_columns.js';

/**
 * Each submission's immutable snapshot (content + attachment hashes) and receipt. The idempotency key from the
 * submit form is UNIQUE, so a retried or double-clicked submit finds the first one instead of making another.
 */
export const up: MigrationFn = async ({ context: { qi, sequelize } }) => {
  await qi.createTable('proposal_submissions', {
    id,
    proposal_id: fk('proposals', false, 'CASCADE'),
    idempotency_key: { type: DataTypes.STRING(64), allowNull: false, unique: true },
    receipt_no: { type: DataTypes.STRING(32), allowNull: false, unique: true },
    snapshot: { type: sequelize.getDialect() === 'sqlite' ? DataTypes.TEXT : DataTypes.TEXT('long'), allowNull: false },
    snapshot_sha256: { type: DataTypes.CHAR(64), allowNull: false },
    submitted_by: fk('users', true, 'SET NULL'),
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex('proposal_submissions', ['proposal_id']);
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('proposal_submissions');
