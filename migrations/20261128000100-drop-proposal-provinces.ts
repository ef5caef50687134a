import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';

/**
 * proposal_provinces (one row per consortium province) is no longer read: the officers' visibility rule reads
 * the proposal row's own `province_codes`, which facts.ts writes in the same transaction from the same facts
 * (screening-query.ts says why). One copy of the provinces instead of two.
 */
export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.dropTable('proposal_provinces');
};

/** The table as 20261127100100 made it, refilled from the partners (its rows were their distinct provinces). */
export const down: MigrationFn = async ({ context: { qi, sequelize } }) => {
  await qi.createTable('proposal_provinces', {
    proposal_id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true, references: { model: 'proposals', key: 'id' }, onDelete: 'CASCADE', onUpdate: 'CASCADE' },
    province_code: { type: DataTypes.STRING(8), allowNull: false, primaryKey: true, references: { model: 'provinces', key: 'code' }, onDelete: 'RESTRICT', onUpdate: 'CASCADE' },
  });
  await qi.addIndex('proposal_provinces', ['province_code', 'proposal_id'], { name: 'proposal_provinces_by_province' });
  await sequelize.query('INSERT INTO proposal_provinces (proposal_id, province_code) SELECT DISTINCT proposal_id, province_code FROM proposal_partners');
};
