import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { fk, id } from './_columns.js';

export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('call_topics', {
    id,
    call_id: fk('calls', false, 'CASCADE'),
    code: { type: DataTypes.STRING(32), allowNull: false },
    title_zh: { type: DataTypes.STRING(255), allowNull: false },
    title_en: { type: DataTypes.STRING(255), allowNull: true },
    description: { type: DataTypes.TEXT, allowNull: true },
    sort_order: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
  });
  await qi.addIndex('call_topics', ['call_id', 'code'], { unique: true, name: 'call_topics_call_code' });
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('call_topics');
