import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { fk, id } from './_columns.js';

/**
 * Officers' decisions on conflicts: kind 'add' (cause 'officerAdded') adds a conflict, kind 'lift' removes
 * the computed conflict of one cause for one expert × proposal (never a sanction). One row per cause per pair.
 */
export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('conflict_overrides', {
    id,
    proposal_id: fk('proposals', false, 'CASCADE'),
    expert_user_id: fk('users', false, 'CASCADE'),
    kind: { type: DataTypes.STRING(8), allowNull: false },
    cause: { type: DataTypes.STRING(32), allowNull: false },
    reason: { type: DataTypes.STRING(500), allowNull: false },
    created_by: fk('users', true, 'SET NULL'),
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex('conflict_overrides', ['proposal_id', 'expert_user_id', 'cause'], { unique: true, name: 'conflict_overrides_pair_cause' });
  await qi.addIndex('conflict_overrides', ['expert_user_id'], { name: 'conflict_overrides_expert' });
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('conflict_overrides');
