import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { fk, id } from './_columns.js';

/** Conflicts of interest an expert declares on a proposal (专家主动申报回避), with the reason. */
export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('declared_conflicts', {
    id,
    proposal_id: fk('proposals', false, 'CASCADE'),
    expert_user_id: fk('users', false, 'CASCADE'),
    reason: { type: DataTypes.STRING(500), allowNull: false },
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex('declared_conflicts', ['proposal_id', 'expert_user_id'], { unique: true, name: 'declared_conflicts_pair' });
  await qi.addIndex('declared_conflicts', ['expert_user_id'], { name: 'declared_conflicts_expert' });
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('declared_conflicts');
