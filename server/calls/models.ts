/** Sequelize models of programmes and calls. JSON columns are parsed by the accessors in calls/service code. */
import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import { ChangeSignal, onModelChange } from '../platform/read-cache.js';
import type { CallStatus, FundingMode } from './rules.js';

export class Programme extends Model<InferAttributes<Programme>, InferCreationAttributes<Programme>> {
  declare id: CreationOptional<number>;
  declare nameZh: string;
  declare nameEn: string | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class Call extends Model<InferAttributes<Call>, InferCreationAttributes<Call>> {
  declare id: CreationOptional<number>;
  declare programmeId: number;
  declare titleZh: string;
  declare titleEn: string | null;
  declare bodyZh: string;
  declare bodyEn: string | null;
  declare status: CreationOptional<CallStatus>;
  declare opensAt: Date | null;
  declare deadlineAt: Date | null;
  declare endorsementRequired: CreationOptional<boolean>;
  declare endorsementDeadlineAt: Date | null;
  declare reviewDueAt: Date | null;
  declare decisionAt: Date | null;
  declare fundingMode: CreationOptional<FundingMode>;
  declare balancingPotFen: CreationOptional<number>;
  declare reviewersPerProposal: CreationOptional<number>;
  /** Conflict rule: no expert from the lead institution's province reviews the call's proposals. */
  declare noExpertFromLeadProvince: CreationOptional<boolean>;
  declare rulesJson: string;
  declare budgetCategoriesJson: string;
  declare attachmentKindsJson: string;
  declare createdBy: number | null;
  declare publishedAt: Date | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class CallTopic extends Model<InferAttributes<CallTopic>, InferCreationAttributes<CallTopic>> {
  declare id: CreationOptional<number>;
  declare callId: number;
  declare code: string;
  declare titleZh: string;
  declare titleEn: string | null;
  declare description: string | null;
  declare sortOrder: CreationOptional<number>;
}

export class CallCriterion extends Model<InferAttributes<CallCriterion>, InferCreationAttributes<CallCriterion>> {
  declare id: CreationOptional<number>;
  declare callId: number;
  declare nameZh: string;
  declare nameEn: string | null;
  declare weight: number;
  declare scaleMax: CreationOptional<number>;
  declare sortOrder: CreationOptional<number>;
}

export class CallPledge extends Model<InferAttributes<CallPledge>, InferCreationAttributes<CallPledge>> {
  declare id: CreationOptional<number>;
  declare callId: number;
  declare provinceCode: string;
  declare amountFen: number;
  declare committedFen: CreationOptional<number>;
  declare enteredBy: number | null;
  declare updatedAt: CreationOptional<Date>;
}

export class CallSubscription extends Model<InferAttributes<CallSubscription>, InferCreationAttributes<CallSubscription>> {
  declare id: CreationOptional<number>;
  declare userId: number;
  declare createdAt: CreationOptional<Date>;
}

/** BIGINT money read back as a JavaScript number (MySQL may hand back strings); amounts stay far below 2^53 fen. */
export const fen = (field: string) => ({
  type: DataTypes.BIGINT,
  allowNull: false,
  defaultValue: 0,
  get(this: Model) {
    const v = this.getDataValue(field as never) as unknown;
    return v === null || v === undefined ? v : Number(v);
  },
});

const callsChanged = new ChangeSignal();
/** Be told when calls or their topics change through the models (for caches of call data, see read-cache.ts). */
export const onCallsChanged = (fn: () => void): void => callsChanged.on(fn);

export function initCallModels(sequelize: Sequelize): void {
  const o = { sequelize, underscored: true };
  Programme.init(
    { id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true }, nameZh: DataTypes.STRING(191), nameEn: DataTypes.STRING(255), createdAt: DataTypes.DATE, updatedAt: DataTypes.DATE },
    { ...o, tableName: 'programmes' },
  );
  Call.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      programmeId: { type: DataTypes.INTEGER, allowNull: false },
      titleZh: { type: DataTypes.STRING(255), allowNull: false },
      titleEn: DataTypes.STRING(255),
      bodyZh: { type: DataTypes.TEXT, allowNull: false },
      bodyEn: DataTypes.TEXT,
      status: { type: DataTypes.STRING(16), defaultValue: 'draft' },
      opensAt: DataTypes.DATE,
      deadlineAt: DataTypes.DATE,
      endorsementRequired: { type: DataTypes.BOOLEAN, defaultValue: false },
      endorsementDeadlineAt: DataTypes.DATE,
      reviewDueAt: DataTypes.DATE,
      decisionAt: DataTypes.DATE,
      fundingMode: { type: DataTypes.STRING(16), defaultValue: 'virtual' },
      balancingPotFen: fen('balancingPotFen'),
      reviewersPerProposal: { type: DataTypes.INTEGER, defaultValue: 3 },
      noExpertFromLeadProvince: { type: DataTypes.BOOLEAN, defaultValue: false },
      rulesJson: { type: DataTypes.TEXT, allowNull: false },
      budgetCategoriesJson: { type: DataTypes.TEXT, allowNull: false },
      attachmentKindsJson: { type: DataTypes.TEXT, allowNull: false },
      createdBy: DataTypes.INTEGER,
      publishedAt: DataTypes.DATE,
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...o, tableName: 'calls' },
  );
  onModelChange(Call, callsChanged.emit);
  CallTopic.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      callId: { type: DataTypes.INTEGER, allowNull: false },
      code: { type: DataTypes.STRING(32), allowNull: false },
      titleZh: { type: DataTypes.STRING(255), allowNull: false },
      titleEn: DataTypes.STRING(255),
      description: DataTypes.TEXT,
      sortOrder: { type: DataTypes.INTEGER, defaultValue: 0 },
    },
    { ...o, tableName: 'call_topics', timestamps: false },
  );
  onModelChange(CallTopic, callsChanged.emit);
  CallCriterion.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      callId: { type: DataTypes.INTEGER, allowNull: false },
      nameZh: { type: DataTypes.STRING(191), allowNull: false },
      nameEn: DataTypes.STRING(191),
      weight: { type: DataTypes.INTEGER, allowNull: false },
      scaleMax: { type: DataTypes.INTEGER, defaultValue: 10 },
      sortOrder: { type: DataTypes.INTEGER, defaultValue: 0 },
    },
    { ...o, tableName: 'call_criteria', timestamps: false },
  );
  CallPledge.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      callId: { type: DataTypes.INTEGER, allowNull: false },
      provinceCode: { type: DataTypes.STRING(8), allowNull: false },
      amountFen: fen('amountFen'),
      committedFen: fen('committedFen'),
      enteredBy: DataTypes.INTEGER,
      updatedAt: DataTypes.DATE,
    },
    { ...o, tableName: 'call_pledges', createdAt: false },
  );
  CallSubscription.init(
    { id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true }, userId: { type: DataTypes.INTEGER, allowNull: false }, createdAt: DataTypes.DATE },
    { ...o, tableName: 'call_subscriptions', updatedAt: false },
  );
  Call.belongsTo(Programme, { foreignKey: 'programmeId', as: 'programme' });
  Call.hasMany(CallTopic, { foreignKey: 'callId', as: 'topics' });
  Call.hasMany(CallCriterion, { foreignKey: 'callId', as: 'criteria' });
  Call.hasMany(CallPledge, { foreignKey: 'callId', as: 'pledges' });
}
