import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { fk, id } from './_columns.js';

/** Single-use, expiring tokens mailed to a user: e-mail confirmation and password reset. Only the sha256 is stored. */
export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('account_tokens', {
    id,
    user_id: fk('users', false, 'CASCADE'),
    purpose: { type: DataTypes.STRING(16), allowNull: false },
    token_hash: { type: DataTypes.CHAR(64), allowNull: false, unique: true },
    expires_at: { type: DataTypes.DATE, allowNull: false },
    used_at: { type: DataTypes.DATE, allowNull: true },
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex('account_tokens', ['user_id', 'purpose']);
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('account_tokens');
