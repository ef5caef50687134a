import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { fk, id } from './_columns.js';

/** Officers' pins (must assign) and forbids (must not) for the optimiser, with a reason. */
export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('assignment_constraints', {
    id,
    call_id: fk('calls', false, 'CASCADE'),
    proposal_id: fk('proposals', false, 'CASCADE'),
    expert_user_id: fk('users', false, 'CASCADE'),
    kind: { type: DataTypes.STRING(8), allowNull: false },
    reason: { type: DataTypes.STRING(500), allowNull: true },
    created_by: fk('users', true, 'SET NULL'),
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex('assignment_constraints', ['proposal_id', 'expert_user_id'], { unique: true, name: 'assignment_constraints_pair' });
  await qi.addIndex('assignment_constraints', ['call_id']);
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('assignment_constraints');
