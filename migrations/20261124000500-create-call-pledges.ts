import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { fk, id } from './_columns.js';

/**
 * Per-province budget pledge of a call, in fen. committed_fen is filled by the funding stage with a guarded
 * update; the CHECK keeps commitments within the pledge whatever the code does.
 */
export const up: MigrationFn = async ({ context: { qi, sequelize } }) => {
  await qi.createTable('call_pledges', {
    id,
    call_id: fk('calls', false, 'CASCADE'),
    province_code: { type: DataTypes.STRING(8), allowNull: false, references: { model: 'provinces', key: 'code' }, onUpdate: 'CASCADE', onDelete: 'RESTRICT' },
    amount_fen: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
    committed_fen: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
    entered_by: fk('users', true, 'SET NULL'),
    updated_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex('call_pledges', ['call_id', 'province_code'], { unique: true, name: 'call_pledges_call_province' });
  if (sequelize.getDialect() !== 'sqlite') {
    await sequelize.query('ALTER TABLE call_pledges ADD CONSTRAINT call_pledges_within CHECK (amount_fen >= 0 AND committed_fen >= 0 AND committed_fen <= amount_fen)');
  }
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('call_pledges');
