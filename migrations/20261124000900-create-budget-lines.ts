import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { fk, id } from './_columns.js';

/** Requested money per partner, per project year (1…), per category of the call; integer fen. */
export const up: MigrationFn = async ({ context: { qi, sequelize } }) => {
  await qi.createTable('budget_lines', {
    id,
    proposal_id: fk('proposals', false, 'CASCADE'),
    partner_id: fk('proposal_partners', false, 'CASCADE'),
    year: { type: DataTypes.INTEGER, allowNull: false },
    category: { type: DataTypes.STRING(32), allowNull: false },
    amount_fen: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
  });
  await qi.addIndex('budget_lines', ['partner_id', 'year', 'category'], { unique: true, name: 'budget_lines_unique' });
  await qi.addIndex('budget_lines', ['proposal_id']);
  if (sequelize.getDialect() !== 'sqlite') {
    await sequelize.query('ALTER TABLE budget_lines ADD CONSTRAINT budget_lines_nonnegative CHECK (amount_fen >= 0 AND year >= 1)');
  }
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('budget_lines');
