import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { fk, id } from './_columns.js';

/** Uploaded files: stored under UPLOAD_DIR by an opaque name; the original name is only shown, never used as a path. */
export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('attachments', {
    id,
    proposal_id: fk('proposals', false, 'CASCADE'),
    kind: { type: DataTypes.STRING(32), allowNull: false },
    original_name: { type: DataTypes.STRING(255), allowNull: false },
    stored_name: { type: DataTypes.STRING(80), allowNull: false, unique: true },
    size_bytes: { type: DataTypes.INTEGER, allowNull: false },
    mime: { type: DataTypes.STRING(100), allowNull: false },
    sha256: { type: DataTypes.CHAR(64), allowNull: false },
    uploaded_by: fk('users', true, 'SET NULL'),
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex('attachments', ['proposal_id']);
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('attachments');
