import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { fk, id, timestamps } from './_columns.js';

export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('proposals', {
    id,
    call_id: fk('calls', false),
    topic_id: fk('call_topics', true, 'SET NULL'),
    pi_user_id: fk('users', false),
    lead_institution_id: fk('institutions', true),
    title: { type: DataTypes.STRING(255), allowNull: false, defaultValue: '' },
    title_en: { type: DataTypes.STRING(255), allowNull: true },
    abstract: { type: DataTypes.TEXT, allowNull: true },
    keywords: { type: DataTypes.STRING(500), allowNull: true },
    discipline_code: { type: DataTypes.STRING(32), allowNull: true },
    duration_months: { type: DataTypes.INTEGER, allowNull: true },
    status: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'draft' },
    version: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    receipt_no: { type: DataTypes.STRING(32), allowNull: true, unique: true },
    submitted_at: { type: DataTypes.DATE, allowNull: true },
    endorsed_by: fk('users', true, 'SET NULL'),
    endorsed_at: { type: DataTypes.DATE, allowNull: true },
    return_reason: { type: DataTypes.STRING(1000), allowNull: true },
    screened_by: fk('users', true, 'SET NULL'),
    screened_at: { type: DataTypes.DATE, allowNull: true },
    screening_reason: { type: DataTypes.STRING(1000), allowNull: true },
    ...timestamps,
  });
  await qi.addIndex('proposals', ['call_id', 'status']);
  await qi.addIndex('proposals', ['pi_user_id']);
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('proposals');
