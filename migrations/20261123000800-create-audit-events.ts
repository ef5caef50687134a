import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';

export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('audit_events', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true, allowNull: false },
    actor_id: { type: DataTypes.INTEGER, allowNull: true },
    action: { type: DataTypes.STRING(64), allowNull: false },
    entity_type: { type: DataTypes.STRING(64), allowNull: false },
    entity_id: { type: DataTypes.STRING(64), allowNull: true },
    before_json: { type: DataTypes.TEXT, allowNull: true },
    after_json: { type: DataTypes.TEXT, allowNull: true },
    ip: { type: DataTypes.STRING(64), allowNull: true },
    request_id: { type: DataTypes.STRING(64), allowNull: true },
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex('audit_events', ['created_at']);
  await qi.addIndex('audit_events', ['entity_type', 'entity_id']);
  await qi.addIndex('audit_events', ['actor_id']);
  await qi.addIndex('audit_events', ['action']);
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('audit_events');
