import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';

/** Call option: no reviewer from the province of the proposal's lead institution (回避牵头单位所在省市专家). */
export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.addColumn('calls', 'no_expert_from_lead_province', { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false });
};
/** A plain DROP COLUMN (SQLite ≥ 3.35 and MySQL alike): Sequelize's SQLite removeColumn would rebuild the table. */
export const down: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.query('ALTER TABLE calls DROP COLUMN no_expert_from_lead_province');
};
