import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { allProposalIds, refreshProposalFacts } from '../server/proposals/facts.js';

const COLUMNS = {
  total_request_fen: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
  max_partner_request_fen: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
  self_funded_fen: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
  partner_count: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
  province_count: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
  province_codes: { type: DataTypes.STRING(255), allowNull: false, defaultValue: '' },
  lead_type: { type: DataTypes.STRING(16), allowNull: true },
  lead_province: { type: DataTypes.STRING(8), allowNull: true },
  enterprise_min_self_pct: { type: DataTypes.BIGINT, allowNull: true },
};

/**
 * Each proposal's facts for the officers' screening list (server/proposals/facts*.ts), kept on the row by the
 * writers of partners, budget lines and institutions, plus proposal_provinces (one row per consortium
 * province, indexed by province: the officers' visibility rule). Indexes for the list's filters and sorts.
 * Existing rows are backfilled here.
 */
export const up: MigrationFn = async ({ context: { qi, sequelize } }) => {
  for (const [name, spec] of Object.entries(COLUMNS)) await qi.addColumn('proposals', name, spec);
  await qi.createTable('proposal_provinces', {
    proposal_id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true, references: { model: 'proposals', key: 'id' }, onDelete: 'CASCADE', onUpdate: 'CASCADE' },
    province_code: { type: DataTypes.STRING(8), allowNull: false, primaryKey: true, references: { model: 'provinces', key: 'code' }, onDelete: 'RESTRICT', onUpdate: 'CASCADE' },
  });
  await qi.addIndex('proposal_provinces', ['province_code', 'proposal_id'], { name: 'proposal_provinces_by_province' });
  await qi.addIndex('proposals', ['submitted_at'], { name: 'proposals_submitted_at' });
  await qi.addIndex('proposals', ['total_request_fen'], { name: 'proposals_total_request' });
  await qi.addIndex('proposals', ['lead_type'], { name: 'proposals_lead_type' });
  await qi.addIndex('proposals', ['call_id', 'pi_user_id', 'status'], { name: 'proposals_call_pi_status' });
  // utf8mb4 titles: a 191-character prefix keeps the key within older InnoDB limits (SQLite has no prefixes).
  const title = sequelize.getDialect() === 'sqlite' ? ['title'] : [{ name: 'title', length: 191 }];
  await qi.addIndex('proposals', title as never, { name: 'proposals_title' });
  await sequelize.transaction(async (transaction) => {
    const ids = await allProposalIds(sequelize, transaction);
    for (let i = 0; i < ids.length; i += 500) await refreshProposalFacts(sequelize, ids.slice(i, i + 500), transaction);
  });
};

/** Plain DROP INDEX / DROP COLUMN (SQLite ≥ 3.35 and MySQL alike): Sequelize's SQLite removeColumn would rebuild the table. */
export const down: MigrationFn = async ({ context: { qi, sequelize } }) => {
  for (const name of ['proposals_submitted_at', 'proposals_total_request', 'proposals_lead_type', 'proposals_call_pi_status', 'proposals_title']) await qi.removeIndex('proposals', name);
  await qi.dropTable('proposal_provinces');
  for (const name of Object.keys(COLUMNS)) await sequelize.query(`ALTER TABLE proposals DROP COLUMN ${name}`);
};
