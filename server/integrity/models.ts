/** Sequelize model of integrity sanctions (科研失信记录), shared by all provinces. */
import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import { ChangeSignal, onModelChange } from '../platform/read-cache.js';
import type { SubjectType } from './rules.js';

export class IntegritySanction extends Model<InferAttributes<IntegritySanction>, InferCreationAttributes<IntegritySanction>> {
  declare id: CreationOptional<number>;
  declare subjectType: SubjectType;
  declare subjectUserId: number | null;
  declare subjectInstitutionId: number | null;
  declare subjectCreditCode: string | null;
  declare subjectName: string;
  declare provinceCode: string;
  declare reason: string;
  declare legalBasis: string;
  declare startsAt: Date;
  declare endsAt: Date | null;
  declare liftedAt: CreationOptional<Date | null>;
  declare liftedBy: CreationOptional<number | null>;
  declare liftReason: CreationOptional<string | null>;
  declare createdBy: number | null;
  declare updatedBy: number | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

const sanctionsChanged = new ChangeSignal();
/** Be told when sanctions change through the model (for caches of them, see read-cache.ts). */
export const onSanctionsChanged = (fn: () => void): void => sanctionsChanged.on(fn);

export function initIntegrityModels(sequelize: Sequelize): void {
  const int = (allowNull = true) => ({ type: DataTypes.INTEGER, allowNull });
  IntegritySanction.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      subjectType: { type: DataTypes.STRING(16), allowNull: false },
      subjectUserId: int(),
      subjectInstitutionId: int(),
      subjectCreditCode: { type: DataTypes.STRING(18), allowNull: true },
      subjectName: { type: DataTypes.STRING(191), allowNull: false },
      provinceCode: { type: DataTypes.STRING(8), allowNull: false },
      reason: { type: DataTypes.TEXT, allowNull: false },
      legalBasis: { type: DataTypes.STRING(500), allowNull: false },
      startsAt: { type: DataTypes.DATE, allowNull: false },
      endsAt: { type: DataTypes.DATE, allowNull: true },
      liftedAt: { type: DataTypes.DATE, allowNull: true },
      liftedBy: int(),
      liftReason: { type: DataTypes.STRING(500), allowNull: true },
      createdBy: int(),
      updatedBy: int(),
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { sequelize, tableName: 'integrity_sanctions', underscored: true },
  );
  onModelChange(IntegritySanction, sanctionsChanged.emit);
}
