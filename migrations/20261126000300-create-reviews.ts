import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';
import { fk, id, timestamps } from './_columns.js';

/**
 * An expert's review of an accepted assignment: per-criterion scores (JSON {criterionId: score}), comments
 * to the applicant, confidential comments to officers, a recommendation. `version` is the optimistic lock:
 * a save must name the version it started from.
 */
export const up: MigrationFn = async ({ context: { qi } }) => {
  await qi.createTable('reviews', {
    id,
    assignment_id: { ...fk('review_assignments', false, 'CASCADE'), unique: true },
    scores_json: { type: DataTypes.TEXT, allowNull: false },
    comments_to_applicant: { type: DataTypes.TEXT, allowNull: true },
    confidential_comments: { type: DataTypes.TEXT, allowNull: true },
    recommendation: { type: DataTypes.STRING(16), allowNull: true },
    status: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'draft' },
    version: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    submitted_at: { type: DataTypes.DATE, allowNull: true },
    reminded_at: { type: DataTypes.DATE, allowNull: true },
    ...timestamps,
  });
};
export const down: MigrationFn = async ({ context: { qi } }) => qi.dropTable('reviews');
