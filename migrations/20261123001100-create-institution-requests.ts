import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { fk, id, timestamps } from './_columns.js';

/** An applicant's request for an institution missing from the registry; an officer or admin decides it. */
export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('institution_requests', {
    id,
    name_zh: { type: DataTypes.STRING(191), allowNull: false },
    name_en: { type: DataTypes.STRING(255), allowNull: true },
    province_code: { type: DataTypes.STRING(8), allowNull: false, references: { model: 'provinces', key: 'code' }, onUpdate: 'CASCADE', onDelete: 'RESTRICT' },
    type: { type: DataTypes.STRING(16), allowNull: false },
    credit_code: { type: DataTypes.STRING(18), allowNull: false },
    requested_by: fk('users', false, 'CASCADE'),
    status: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'pending' },
    decided_by: fk('users', true, 'SET NULL'),
    decision_reason: { type: DataTypes.STRING(500), allowNull: true },
    institution_id: fk('institutions', true, 'SET NULL'),
    ...timestamps,
  });
  await qi.addIndex('institution_requests', ['status']);
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('institution_requests');
