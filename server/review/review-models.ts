/** Sequelize models of the review stage: assignments, officers' pin/forbid constraints, reviews. */
import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export const ASSIGNMENT_STATUSES = ['proposed', 'invited', 'accepted', 'declined', 'withdrawn'] as const;
export type AssignmentStatus = (typeof ASSIGNMENT_STATUSES)[number];

export class ReviewAssignment extends Model<InferAttributes<ReviewAssignment>, InferCreationAttributes<ReviewAssignment>> {
  declare id: CreationOptional<number>;
  declare callId: number;
  declare proposalId: number;
  declare expertUserId: number;
  declare status: CreationOptional<AssignmentStatus>;
  declare affinityMilli: CreationOptional<number>;
  declare invitedAt: CreationOptional<Date | null>;
  declare respondedAt: CreationOptional<Date | null>;
  declare declineReason: CreationOptional<string | null>;
  declare createdBy: number | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class AssignmentConstraint extends Model<InferAttributes<AssignmentConstraint>, InferCreationAttributes<AssignmentConstraint>> {
  declare id: CreationOptional<number>;
  declare callId: number;
  declare proposalId: number;
  declare expertUserId: number;
  declare kind: 'pin' | 'forbid';
  declare reason: string | null;
  declare createdBy: number | null;
  declare createdAt: CreationOptional<Date>;
}

export class Review extends Model<InferAttributes<Review>, InferCreationAttributes<Review>> {
  declare id: CreationOptional<number>;
  declare assignmentId: number;
  declare scoresJson: string;
  declare commentsToApplicant: string | null;
  declare confidentialComments: string | null;
  declare recommendation: string | null;
  declare status: CreationOptional<'draft' | 'submitted'>;
  declare version: CreationOptional<number>;
  declare submittedAt: CreationOptional<Date | null>;
  declare remindedAt: CreationOptional<Date | null>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export function initReviewModels(sequelize: Sequelize): void {
  const o = { sequelize, underscored: true };
  const pk = { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true };
  const int = (allowNull = false) => ({ type: DataTypes.INTEGER, allowNull });
  ReviewAssignment.init(
    {
      id: pk,
      callId: int(),
      proposalId: int(),
      expertUserId: int(),
      status: { type: DataTypes.STRING(16), defaultValue: 'proposed' },
      affinityMilli: { type: DataTypes.INTEGER, defaultValue: 0 },
      invitedAt: DataTypes.DATE,
      respondedAt: DataTypes.DATE,
      declineReason: DataTypes.STRING(1000),
      createdBy: int(true),
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...o, tableName: 'review_assignments' },
  );
  AssignmentConstraint.init(
    { id: pk, callId: int(), proposalId: int(), expertUserId: int(), kind: { type: DataTypes.STRING(8), allowNull: false }, reason: DataTypes.STRING(500), createdBy: int(true), createdAt: DataTypes.DATE },
    { ...o, tableName: 'assignment_constraints', updatedAt: false },
  );
  Review.init(
    {
      id: pk,
      assignmentId: int(),
      scoresJson: { type: DataTypes.TEXT, allowNull: false },
      commentsToApplicant: DataTypes.TEXT,
      confidentialComments: DataTypes.TEXT,
      recommendation: DataTypes.STRING(16),
      status: { type: DataTypes.STRING(16), defaultValue: 'draft' },
      version: { type: DataTypes.INTEGER, defaultValue: 0 },
      submittedAt: DataTypes.DATE,
      remindedAt: DataTypes.DATE,
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...o, tableName: 'reviews' },
  );
  ReviewAssignment.hasOne(Review, { foreignKey: 'assignmentId', as: 'review' });
}
