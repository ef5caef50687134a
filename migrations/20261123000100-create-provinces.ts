import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';

export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('provinces', {
    code: { type: DataTypes.STRING(8), primaryKey: true, allowNull: false },
    name_zh: { type: DataTypes.STRING(64), allowNull: false },
    name_en: { type: DataTypes.STRING(64), allowNull: false },
    sort_order: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
  });
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('provinces');
