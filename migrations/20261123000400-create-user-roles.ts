import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { fk, id } from './_columns.js';

/** scope_key ('' | 'province:SH' | 'institution:12') makes (user, role, scope) unique even where the scope columns are NULL. */
export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('user_roles', {
    id,
    user_id: fk('users', false, 'CASCADE'),
    role: { type: DataTypes.STRING(32), allowNull: false },
    province_code: { type: DataTypes.STRING(8), allowNull: true, references: { model: 'provinces', key: 'code' }, onUpdate: 'CASCADE', onDelete: 'RESTRICT' },
    institution_id: fk('institutions'),
    scope_key: { type: DataTypes.STRING(64), allowNull: false, defaultValue: '' },
    granted_by: fk('users', true, 'SET NULL'),
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex('user_roles', ['user_id', 'role', 'scope_key'], { unique: true, name: 'user_roles_unique_scope' });
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('user_roles');
