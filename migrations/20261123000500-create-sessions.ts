import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';

export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('sessions', {
    sid: { type: DataTypes.STRING(191), primaryKey: true, allowNull: false },
    user_id: { type: DataTypes.INTEGER, allowNull: true },
    data: { type: DataTypes.TEXT, allowNull: false },
    expires: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex('sessions', ['user_id']);
  await qi.addIndex('sessions', ['expires']);
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('sessions');
