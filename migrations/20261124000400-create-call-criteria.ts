import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { fk, id } from './_columns.js';

/** Review criteria of a call: weight in percent (weights of a call add up to 100), scale 1..scale_max. */
export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('call_criteria', {
    id,
    call_id: fk('calls', false, 'CASCADE'),
    name_zh: { type: DataTypes.STRING(191), allowNull: false },
    name_en: { type: DataTypes.STRING(191), allowNull: true },
    weight: { type: DataTypes.INTEGER, allowNull: false },
    scale_max: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 10 },
    sort_order: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
  });
  await qi.addIndex('call_criteria', ['call_id']);
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('call_criteria');
