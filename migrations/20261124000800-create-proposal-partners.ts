import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { fk, id } from './_columns.js';

/**
 * Consortium members, the lead included (is_lead). province_code is copied from the institution when the
 * partner is added, so the consortium's provinces stay what was submitted. Requested money is the sum of the
 * partner's budget lines; self-funding is entered here. confirmed_at is reset when the partner's lines change.
 */
export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('proposal_partners', {
    id,
    proposal_id: fk('proposals', false, 'CASCADE'),
    institution_id: fk('institutions', false),
    province_code: { type: DataTypes.STRING(8), allowNull: false, references: { model: 'provinces', key: 'code' }, onUpdate: 'CASCADE', onDelete: 'RESTRICT' },
    is_lead: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    role: { type: DataTypes.STRING(500), allowNull: true },
    contact_user_id: fk('users', true, 'SET NULL'),
    self_funded_fen: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
    confirmed_at: { type: DataTypes.DATE, allowNull: true },
    confirmed_by: fk('users', true, 'SET NULL'),
    sort_order: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
  });
  await qi.addIndex('proposal_partners', ['proposal_id', 'institution_id'], { unique: true, name: 'proposal_partners_unique' });
  await qi.addIndex('proposal_partners', ['contact_user_id']);
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('proposal_partners');
