import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { id } from './_columns.js';

export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('outbox_messages', {
    id,
    message_id: { type: DataTypes.STRING(191), allowNull: false, unique: true },
    to_address: { type: DataTypes.STRING(254), allowNull: false },
    to_name: { type: DataTypes.STRING(100), allowNull: true },
    template: { type: DataTypes.STRING(64), allowNull: false },
    subject: { type: DataTypes.STRING(255), allowNull: false },
    text_body: { type: DataTypes.TEXT, allowNull: false },
    html_body: { type: DataTypes.TEXT, allowNull: false },
    status: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'pending' },
    attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    next_attempt_at: { type: DataTypes.DATE, allowNull: false },
    locked_until: { type: DataTypes.DATE, allowNull: true },
    last_error: { type: DataTypes.STRING(500), allowNull: true },
    sent_at: { type: DataTypes.DATE, allowNull: true },
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex('outbox_messages', ['status', 'next_attempt_at']);
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('outbox_messages');
