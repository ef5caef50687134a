import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { id, key191, timestamps } from './_columns.js';

export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('institutions', {
    id,
    name_zh: key191(),
    name_en: { type: DataTypes.STRING(255), allowNull: true },
    province_code: { type: DataTypes.STRING(8), allowNull: false, references: { model: 'provinces', key: 'code' }, onUpdate: 'CASCADE', onDelete: 'RESTRICT' },
    type: { type: DataTypes.STRING(16), allowNull: false },
    credit_code: { type: DataTypes.STRING(18), allowNull: false, unique: true },
    ...timestamps,
  });
  await qi.addIndex('institutions', ['name_zh']);
  await qi.addIndex('institutions', ['province_code']);
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('institutions');
