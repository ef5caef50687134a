/** Sequelize models of joint proposals: the proposal, its consortium, budget, attachments, exclusions, submissions. */
import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import { fen } from '../calls/models.js';
import type { InstitutionType } from '../people/rules.js';
import type { ProposalStatus } from './rules.js';

export class Proposal extends Model<InferAttributes<Proposal>, InferCreationAttributes<Proposal>> {
  declare id: CreationOptional<number>;
  declare callId: number;
  declare topicId: number | null;
  declare piUserId: number;
  declare leadInstitutionId: number | null;
  declare title: CreationOptional<string>;
  declare titleEn: string | null;
  declare abstract: string | null;
  declare keywords: string | null;
  declare disciplineCode: string | null;
  declare durationMonths: number | null;
  declare status: CreationOptional<ProposalStatus>;
  declare version: CreationOptional<number>;
  declare receiptNo: CreationOptional<string | null>;
  declare submittedAt: CreationOptional<Date | null>;
  declare endorsedBy: CreationOptional<number | null>;
  declare endorsedAt: CreationOptional<Date | null>;
  declare returnReason: CreationOptional<string | null>;
  declare screenedBy: CreationOptional<number | null>;
  declare screenedAt: CreationOptional<Date | null>;
  declare screeningReason: CreationOptional<string | null>;
  // Denormalised facts (facts.ts keeps them; never set them directly).
  declare totalRequestFen: CreationOptional<number>;
  declare maxPartnerRequestFen: CreationOptional<number>;
  declare selfFundedFen: CreationOptional<number>;
  declare partnerCount: CreationOptional<number>;
  declare provinceCount: CreationOptional<number>;
  declare provinceCodes: CreationOptional<string>;
  declare leadType: CreationOptional<InstitutionType | null>;
  declare leadProvince: CreationOptional<string | null>;
  declare enterpriseMinSelfPct: CreationOptional<number | null>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class ProposalPartner extends Model<InferAttributes<ProposalPartner>, InferCreationAttributes<ProposalPartner>> {
  declare id: CreationOptional<number>;
  declare proposalId: number;
  declare institutionId: number;
  declare provinceCode: string;
  declare isLead: CreationOptional<boolean>;
  declare role: string | null;
  declare contactUserId: number | null;
  declare selfFundedFen: CreationOptional<number>;
  declare confirmedAt: CreationOptional<Date | null>;
  declare confirmedBy: CreationOptional<number | null>;
  declare sortOrder: CreationOptional<number>;
}

export class BudgetLine extends Model<InferAttributes<BudgetLine>, InferCreationAttributes<BudgetLine>> {
  declare id: CreationOptional<number>;
  declare proposalId: number;
  declare partnerId: number;
  declare year: number;
  declare category: string;
  declare amountFen: number;
}

export class Attachment extends Model<InferAttributes<Attachment>, InferCreationAttributes<Attachment>> {
  declare id: CreationOptional<number>;
  declare proposalId: number;
  declare kind: string;
  declare originalName: string;
  declare storedName: string;
  declare sizeBytes: number;
  declare mime: string;
  declare sha256: string;
  declare uploadedBy: number | null;
  declare createdAt: CreationOptional<Date>;
}

export class ReviewerExclusion extends Model<InferAttributes<ReviewerExclusion>, InferCreationAttributes<ReviewerExclusion>> {
  declare id: CreationOptional<number>;
  declare proposalId: number;
  declare expertName: string;
  declare expertInstitution: string | null;
  declare expertUserId: number | null;
  declare reason: string;
}

export class ProposalSubmission extends Model<InferAttributes<ProposalSubmission>, InferCreationAttributes<ProposalSubmission>> {
  declare id: CreationOptional<number>;
  declare proposalId: number;
  declare idempotencyKey: string;
  declare receiptNo: string;
  declare snapshot: string;
  declare snapshotSha256: string;
  declare submittedBy: number | null;
  declare createdAt: CreationOptional<Date>;
}

export function initProposalModels(sequelize: Sequelize): void {
  const o = { sequelize, underscored: true };
  const pk = { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true };
  const int = (allowNull = false) => ({ type: DataTypes.INTEGER, allowNull });
  Proposal.init(
    {
      id: pk,
      callId: int(),
      topicId: int(true),
      piUserId: int(),
      leadInstitutionId: int(true),
      title: { type: DataTypes.STRING(255), defaultValue: '' },
      titleEn: DataTypes.STRING(255),
      abstract: DataTypes.TEXT,
      keywords: DataTypes.STRING(500),
      disciplineCode: DataTypes.STRING(32),
      durationMonths: int(true),
      status: { type: DataTypes.STRING(16), defaultValue: 'draft' },
      version: { type: DataTypes.INTEGER, defaultValue: 0 },
      receiptNo: DataTypes.STRING(32),
      submittedAt: DataTypes.DATE,
      endorsedBy: int(true),
      endorsedAt: DataTypes.DATE,
      returnReason: DataTypes.STRING(1000),
      screenedBy: int(true),
      screenedAt: DataTypes.DATE,
      screeningReason: DataTypes.STRING(1000),
      totalRequestFen: fen('totalRequestFen'),
      maxPartnerRequestFen: fen('maxPartnerRequestFen'),
      selfFundedFen: fen('selfFundedFen'),
      partnerCount: { type: DataTypes.INTEGER, defaultValue: 0 },
      provinceCount: { type: DataTypes.INTEGER, defaultValue: 0 },
      provinceCodes: { type: DataTypes.STRING(255), defaultValue: '' },
      leadType: DataTypes.STRING(16),
      leadProvince: DataTypes.STRING(8),
      enterpriseMinSelfPct: { type: DataTypes.BIGINT, get(this: Proposal) { const v = this.getDataValue('enterpriseMinSelfPct'); return v === null || v === undefined ? v : Number(v); } },
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...o, tableName: 'proposals' },
  );
  ProposalPartner.init(
    {
      id: pk,
      proposalId: int(),
      institutionId: int(),
      provinceCode: { type: DataTypes.STRING(8), allowNull: false },
      isLead: { type: DataTypes.BOOLEAN, defaultValue: false },
      role: DataTypes.STRING(500),
      contactUserId: int(true),
      selfFundedFen: fen('selfFundedFen'),
      confirmedAt: DataTypes.DATE,
      confirmedBy: int(true),
      sortOrder: { type: DataTypes.INTEGER, defaultValue: 0 },
    },
    { ...o, tableName: 'proposal_partners', timestamps: false },
  );
  BudgetLine.init(
    { id: pk, proposalId: int(), partnerId: int(), year: int(), category: { type: DataTypes.STRING(32), allowNull: false }, amountFen: fen('amountFen') },
    { ...o, tableName: 'budget_lines', timestamps: false },
  );
  Attachment.init(
    {
      id: pk,
      proposalId: int(),
      kind: { type: DataTypes.STRING(32), allowNull: false },
      originalName: { type: DataTypes.STRING(255), allowNull: false },
      storedName: { type: DataTypes.STRING(80), allowNull: false },
      sizeBytes: int(),
      mime: { type: DataTypes.STRING(100), allowNull: false },
      sha256: { type: DataTypes.CHAR(64), allowNull: false },
      uploadedBy: int(true),
      createdAt: DataTypes.DATE,
    },
    { ...o, tableName: 'attachments', updatedAt: false },
  );
  ReviewerExclusion.init(
    { id: pk, proposalId: int(), expertName: { type: DataTypes.STRING(100), allowNull: false }, expertInstitution: DataTypes.STRING(191), expertUserId: int(true), reason: { type: DataTypes.STRING(500), allowNull: false } },
    { ...o, tableName: 'reviewer_exclusions', timestamps: false },
  );
  ProposalSubmission.init(
    {
      id: pk,
      proposalId: int(),
      idempotencyKey: { type: DataTypes.STRING(64), allowNull: false },
      receiptNo: { type: DataTypes.STRING(32), allowNull: false },
      snapshot: { type: DataTypes.TEXT, allowNull: false },
      snapshotSha256: { type: DataTypes.CHAR(64), allowNull: false },
      submittedBy: int(true),
      createdAt: DataTypes.DATE,
    },
    { ...o, tableName: 'proposal_submissions', updatedAt: false },
  );
  Proposal.hasMany(ProposalPartner, { foreignKey: 'proposalId', as: 'partners' });
  Proposal.hasMany(BudgetLine, { foreignKey: 'proposalId', as: 'budgetLines' });
  Proposal.hasMany(Attachment, { foreignKey: 'proposalId', as: 'attachments' });
  Proposal.hasMany(ReviewerExclusion, { foreignKey: 'proposalId', as: 'exclusions' });
}
