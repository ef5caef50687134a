import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';

/** Failed sign-ins per identifier (known user or not, so the lockout reveals nothing about accounts). */
export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('login_throttles', {
    throttle_key: { type: DataTypes.STRING(191), primaryKey: true, allowNull: false },
    failures: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    window_start: { type: DataTypes.DATE, allowNull: false },
    locked_until: { type: DataTypes.DATE, allowNull: true },
  });
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('login_throttles');
