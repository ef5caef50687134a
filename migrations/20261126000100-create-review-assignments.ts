import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { fk, id, timestamps } from './_columns.js';

/**
 * Expert x proposal assignments of a call: proposed by the optimiser, invited by an officer, accepted or
 * declined by the expert. affinity_milli is the affinity x 1000 shown to officers.
 */
export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('review_assignments', {
    id,
    call_id: fk('calls', false, 'CASCADE'),
    proposal_id: fk('proposals', false, 'CASCADE'),
    expert_user_id: fk('users', false, 'CASCADE'),
    status: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'proposed' },
    affinity_milli: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    invited_at: { type: DataTypes.DATE, allowNull: true },
    responded_at: { type: DataTypes.DATE, allowNull: true },
    decline_reason: { type: DataTypes.STRING(1000), allowNull: true },
    created_by: fk('users', true, 'SET NULL'),
    ...timestamps,
  });
  await qi.addIndex('review_assignments', ['proposal_id', 'expert_user_id'], { unique: true, name: 'review_assignments_pair' });
  await qi.addIndex('review_assignments', ['expert_user_id', 'status']);
  await qi.addIndex('review_assignments', ['call_id', 'status']);
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('review_assignments');
