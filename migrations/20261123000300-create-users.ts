import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { fk, id, key191, timestamps } from './_columns.js';

export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('users', {
    id,
    email: { ...key191(), unique: true },
    name: { type: DataTypes.STRING(100), allowNull: false },
    password_hash: { type: DataTypes.STRING(255), allowNull: false },
    institution_id: fk('institutions'),
    lang: { type: DataTypes.STRING(8), allowNull: false, defaultValue: 'zh-CN' },
    email_verified_at: { type: DataTypes.DATE, allowNull: true },
    disabled_at: { type: DataTypes.DATE, allowNull: true },
    ...timestamps,
  });
  await qi.addIndex('users', ['name']);
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('users');
