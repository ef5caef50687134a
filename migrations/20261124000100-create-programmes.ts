import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { id, timestamps } from './_columns.js';

export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('programmes', {
    id,
    name_zh: { type: DataTypes.STRING(191), allowNull: false, unique: true },
    name_en: { type: DataTypes.STRING(255), allowNull: true },
    ...timestamps,
  });
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('programmes');
