import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { fk, id } from './_columns.js';

/** Experts the applicant asks not to be reviewed by (申请人回避专家), at most three per proposal. */
export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('reviewer_exclusions', {
    id,
    proposal_id: fk('proposals', false, 'CASCADE'),
    expert_name: { type: DataTypes.STRING(100), allowNull: false },
    expert_institution: { type: DataTypes.STRING(191), allowNull: true },
    expert_user_id: fk('users', true, 'SET NULL'),
    reason: { type: DataTypes.STRING(500), allowNull: false },
  });
  await qi.addIndex('reviewer_exclusions', ['proposal_id']);
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('reviewer_exclusions');
