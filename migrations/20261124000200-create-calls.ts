import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { fk, id, timestamps } from './_columns.js';

/** A call (指南/申报通知). Rules, categories, attachment kinds are JSON documents validated by calls/rules.ts. */
export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('calls', {
    id,
    programme_id: fk('programmes', false),
    title_zh: { type: DataTypes.STRING(255), allowNull: false },
    title_en: { type: DataTypes.STRING(255), allowNull: true },
    body_zh: { type: DataTypes.TEXT, allowNull: false },
    body_en: { type: DataTypes.TEXT, allowNull: true },
    status: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'draft' },
    opens_at: { type: DataTypes.DATE, allowNull: true },
    deadline_at: { type: DataTypes.DATE, allowNull: true },
    endorsement_required: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    endorsement_deadline_at: { type: DataTypes.DATE, allowNull: true },
    review_due_at: { type: DataTypes.DATE, allowNull: true },
    decision_at: { type: DataTypes.DATE, allowNull: true },
    funding_mode: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'virtual' },
    balancing_pot_fen: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
    reviewers_per_proposal: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 3 },
    rules_json: { type: DataTypes.TEXT, allowNull: false },
    budget_categories_json: { type: DataTypes.TEXT, allowNull: false },
    attachment_kinds_json: { type: DataTypes.TEXT, allowNull: false },
    created_by: fk('users', true, 'SET NULL'),
    published_at: { type: DataTypes.DATE, allowNull: true },
    ...timestamps,
  });
  await qi.addIndex('calls', ['status']);
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('calls');
