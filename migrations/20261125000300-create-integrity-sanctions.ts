import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { fk, id, timestamps } from './_columns.js';

/**
 * Integrity sanctions (科研失信记录), shared by all provinces. The subject is a person (a user) or an
 * institution (by 统一社会信用代码, linked to the registry when it is there). In force from starts_at
 * (inclusive) until the earlier of ends_at and lifted_at (exclusive); ends_at NULL = no end date.
 */
export const up: MigrationFn = async ({ context: { qi, sequelize } }) => {
  await qi.createTable('integrity_sanctions', {
    id,
    subject_type: { type: DataTypes.STRING(16), allowNull: false },
    // No ON UPDATE/DELETE action: MySQL and MariaDB refuse CHECK constraints on columns that have one.
    subject_user_id: { type: DataTypes.INTEGER, allowNull: true, references: { model: 'users', key: 'id' }, onDelete: 'RESTRICT', onUpdate: 'RESTRICT' },
    subject_institution_id: fk('institutions', true, 'SET NULL'),
    subject_credit_code: { type: DataTypes.STRING(18), allowNull: true },
    subject_name: { type: DataTypes.STRING(191), allowNull: false },
    province_code: { type: DataTypes.STRING(8), allowNull: false, references: { model: 'provinces', key: 'code' }, onUpdate: 'CASCADE', onDelete: 'RESTRICT' },
    reason: { type: DataTypes.TEXT, allowNull: false },
    legal_basis: { type: DataTypes.STRING(500), allowNull: false },
    starts_at: { type: DataTypes.DATE, allowNull: false },
    ends_at: { type: DataTypes.DATE, allowNull: true },
    lifted_at: { type: DataTypes.DATE, allowNull: true },
    lifted_by: fk('users', true, 'SET NULL'),
    lift_reason: { type: DataTypes.STRING(500), allowNull: true },
    created_by: fk('users', true, 'SET NULL'),
    updated_by: fk('users', true, 'SET NULL'),
    ...timestamps,
  });
  await qi.addIndex('integrity_sanctions', ['subject_user_id'], { name: 'integrity_sanctions_user' });
  await qi.addIndex('integrity_sanctions', ['subject_credit_code'], { name: 'integrity_sanctions_credit_code' });
  await qi.addIndex('integrity_sanctions', ['subject_institution_id'], { name: 'integrity_sanctions_institution' });
  await qi.addIndex('integrity_sanctions', ['starts_at'], { name: 'integrity_sanctions_starts' });
  if (sequelize.getDialect() !== 'sqlite') {
    await sequelize.query(
      "ALTER TABLE integrity_sanctions ADD CONSTRAINT integrity_sanctions_subject CHECK ((subject_type = 'person' AND subject_user_id IS NOT NULL) OR (subject_type = 'institution' AND subject_credit_code IS NOT NULL))",
    );
    await sequelize.query('ALTER TABLE integrity_sanctions ADD CONSTRAINT integrity_sanctions_period CHECK (ends_at IS NULL OR ends_at > starts_at)');
  }
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('integrity_sanctions');
