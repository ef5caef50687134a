/**
 * Sequelize models of the shared expert pool (专家库) and of conflicts (回避): expert profiles with their
 * discipline codes, conflicts declared by experts, and officers' overrides (an added conflict, or a lifted one).
 */
import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import type { ConflictCause } from './conflicts.js';

export class ExpertProfile extends Model<InferAttributes<ExpertProfile>, InferCreationAttributes<ExpertProfile>> {
  declare id: CreationOptional<number>;
  declare userId: number;
  declare title: string | null;
  declare keywords: string | null;
  declare bio: string | null;
  declare available: CreationOptional<boolean>;
  declare maxLoad: CreationOptional<number>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class ExpertDiscipline extends Model<InferAttributes<ExpertDiscipline>, InferCreationAttributes<ExpertDiscipline>> {
  declare id: CreationOptional<number>;
  declare userId: number;
  declare code: string;
  declare sortOrder: CreationOptional<number>;
}

export class DeclaredConflict extends Model<InferAttributes<DeclaredConflict>, InferCreationAttributes<DeclaredConflict>> {
  declare id: CreationOptional<number>;
  declare proposalId: number;
  declare expertUserId: number;
  declare reason: string;
  declare createdAt: CreationOptional<Date>;
}

export class ConflictOverride extends Model<InferAttributes<ConflictOverride>, InferCreationAttributes<ConflictOverride>> {
  declare id: CreationOptional<number>;
  declare proposalId: number;
  declare expertUserId: number;
  declare kind: 'add' | 'lift';
  declare cause: ConflictCause;
  declare reason: string;
  declare createdBy: number | null;
  declare createdAt: CreationOptional<Date>;
}

export function initExpertModels(sequelize: Sequelize): void {
  const o = { sequelize, underscored: true };
  const pk = { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true };
  const int = (allowNull = false) => ({ type: DataTypes.INTEGER, allowNull });
  ExpertProfile.init(
    {
      id: pk,
      userId: int(),
      title: { type: DataTypes.STRING(100), allowNull: true },
      keywords: { type: DataTypes.STRING(500), allowNull: true },
      bio: { type: DataTypes.TEXT, allowNull: true },
      available: { type: DataTypes.BOOLEAN, defaultValue: true },
      maxLoad: { type: DataTypes.INTEGER, defaultValue: 5 },
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...o, tableName: 'expert_profiles' },
  );
  ExpertDiscipline.init(
    { id: pk, userId: int(), code: { type: DataTypes.STRING(16), allowNull: false }, sortOrder: { type: DataTypes.INTEGER, defaultValue: 0 } },
    { ...o, tableName: 'expert_disciplines', timestamps: false },
  );
  DeclaredConflict.init(
    { id: pk, proposalId: int(), expertUserId: int(), reason: { type: DataTypes.STRING(500), allowNull: false }, createdAt: DataTypes.DATE },
    { ...o, tableName: 'declared_conflicts', updatedAt: false },
  );
  ConflictOverride.init(
    {
      id: pk,
      proposalId: int(),
      expertUserId: int(),
      kind: { type: DataTypes.STRING(8), allowNull: false },
      cause: { type: DataTypes.STRING(32), allowNull: false },
      reason: { type: DataTypes.STRING(500), allowNull: false },
      createdBy: int(true),
      createdAt: DataTypes.DATE,
    },
    { ...o, tableName: 'conflict_overrides', updatedAt: false },
  );
}
