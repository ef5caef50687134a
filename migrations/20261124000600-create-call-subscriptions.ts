import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { fk, id } from './_columns.js';

/** Users who asked to be told by mail when a call is published. */
export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('call_subscriptions', {
    id,
    user_id: { ...fk('users', false, 'CASCADE'), unique: true },
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('call_subscriptions');
