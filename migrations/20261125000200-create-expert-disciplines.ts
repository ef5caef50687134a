import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { fk, id } from './_columns.js';

/** The discipline codes (学科代码, e.g. G0101) of an expert, in the order the expert gave them. */
export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('expert_disciplines', {
    id,
    user_id: fk('users', false, 'CASCADE'),
    code: { type: DataTypes.STRING(16), allowNull: false },
    sort_order: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
  });
  await qi.addIndex('expert_disciplines', ['user_id', 'code'], { unique: true, name: 'expert_disciplines_user_code' });
  await qi.addIndex('expert_disciplines', ['code'], { name: 'expert_disciplines_code' });
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('expert_disciplines');
