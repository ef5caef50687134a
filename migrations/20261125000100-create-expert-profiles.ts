import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { fk, id, timestamps } from './_columns.js';

/**
 * An expert's profile in the shared pool (专家库): one per user. The province is never stored: it is the
 * province of the user's institution. Disciplines live in expert_disciplines (searchable by code prefix).
 */
export const up: MigrationFn = async ({ context: { qi, sequelize } }) => {
  await qi.createTable('expert_profiles', {
    id,
    user_id: fk('users', false, 'CASCADE'),
    title: { type: DataTypes.STRING(100), allowNull: true },
    keywords: { type: DataTypes.STRING(500), allowNull: true },
    bio: { type: DataTypes.TEXT, allowNull: true },
    available: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
    max_load: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 5 },
    ...timestamps,
  });
  await qi.addIndex('expert_profiles', ['user_id'], { unique: true, name: 'expert_profiles_user' });
  if (sequelize.getDialect() !== 'sqlite') {
    await sequelize.query('ALTER TABLE expert_profiles ADD CONSTRAINT expert_profiles_load CHECK (max_load BETWEEN 1 AND 50)');
  }
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('expert_profiles');
