/** Sequelize models of people: provinces, institutions, users and their roles. */
import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import type { InstitutionType, RoleName } from './rules.js';

export class Province extends Model<InferAttributes<Province>, InferCreationAttributes<Province>> {
  declare code: string;
  declare nameZh: string;
  declare nameEn: string;
  declare sortOrder: CreationOptional<number>;
}

export class Institution extends Model<InferAttributes<Institution>, InferCreationAttributes<Institution>> {
  declare id: CreationOptional<number>;
  declare nameZh: string;
  declare nameEn: string | null;
  declare provinceCode: string;
  declare type: InstitutionType;
  declare creditCode: string;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class InstitutionRequest extends Model<InferAttributes<InstitutionRequest>, InferCreationAttributes<InstitutionRequest>> {
  declare id: CreationOptional<number>;
  declare nameZh: string;
  declare nameEn: string | null;
  declare provinceCode: string;
  declare type: InstitutionType;
  declare creditCode: string;
  declare requestedBy: number;
  declare status: CreationOptional<'pending' | 'approved' | 'rejected'>;
  declare decidedBy: number | null;
  declare decisionReason: string | null;
  declare institutionId: number | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class User extends Model<InferAttributes<User>, InferCreationAttributes<User>> {
  declare id: CreationOptional<number>;
  declare email: string;
  declare name: string;
  declare passwordHash: string;
  declare institutionId: number | null;
  declare lang: CreationOptional<string>;
  declare emailVerifiedAt: Date | null;
  declare disabledAt: Date | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class UserRole extends Model<InferAttributes<UserRole>, InferCreationAttributes<UserRole>> {
  declare id: CreationOptional<number>;
  declare userId: number;
  declare role: RoleName;
  declare provinceCode: string | null;
  declare institutionId: number | null;
  declare scopeKey: string;
  declare grantedBy: number | null;
  declare createdAt: CreationOptional<Date>;
}

export class AccountToken extends Model<InferAttributes<AccountToken>, InferCreationAttributes<AccountToken>> {
  declare id: CreationOptional<number>;
  declare userId: number;
  declare purpose: 'verify' | 'reset';
  declare tokenHash: string;
  declare expiresAt: Date;
  declare usedAt: Date | null;
  declare createdAt: CreationOptional<Date>;
}

export function initPeopleModels(sequelize: Sequelize): void {
  const str = (n: number, allowNull = false) => ({ type: DataTypes.STRING(n), allowNull });
  Province.init(
    { code: { type: DataTypes.STRING(8), primaryKey: true }, nameZh: str(64), nameEn: str(64), sortOrder: { type: DataTypes.INTEGER, defaultValue: 0 } },
    { sequelize, tableName: 'provinces', timestamps: false, underscored: true },
  );
  Institution.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      nameZh: str(191),
      nameEn: str(255, true),
      provinceCode: str(8),
      type: str(16),
      creditCode: str(18),
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { sequelize, tableName: 'institutions', underscored: true },
  );
  InstitutionRequest.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      nameZh: str(191),
      nameEn: str(255, true),
      provinceCode: str(8),
      type: str(16),
      creditCode: str(18),
      requestedBy: { type: DataTypes.INTEGER, allowNull: false },
      status: { type: DataTypes.STRING(16), defaultValue: 'pending' },
      decidedBy: { type: DataTypes.INTEGER, allowNull: true },
      decisionReason: str(500, true),
      institutionId: { type: DataTypes.INTEGER, allowNull: true },
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { sequelize, tableName: 'institution_requests', underscored: true },
  );
  User.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      email: str(191),
      name: str(100),
      passwordHash: str(255),
      institutionId: { type: DataTypes.INTEGER, allowNull: true },
      lang: { type: DataTypes.STRING(8), defaultValue: 'zh-CN' },
      emailVerifiedAt: { type: DataTypes.DATE, allowNull: true },
      disabledAt: { type: DataTypes.DATE, allowNull: true },
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { sequelize, tableName: 'users', underscored: true },
  );
  UserRole.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      userId: { type: DataTypes.INTEGER, allowNull: false },
      role: str(32),
      provinceCode: str(8, true),
      institutionId: { type: DataTypes.INTEGER, allowNull: true },
      scopeKey: { type: DataTypes.STRING(64), defaultValue: '' },
      grantedBy: { type: DataTypes.INTEGER, allowNull: true },
      createdAt: DataTypes.DATE,
    },
    { sequelize, tableName: 'user_roles', underscored: true, updatedAt: false },
  );
  AccountToken.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      userId: { type: DataTypes.INTEGER, allowNull: false },
      purpose: { type: DataTypes.STRING(16), allowNull: false },
      tokenHash: { type: DataTypes.CHAR(64), allowNull: false },
      expiresAt: { type: DataTypes.DATE, allowNull: false },
      usedAt: { type: DataTypes.DATE, allowNull: true },
      createdAt: DataTypes.DATE,
    },
    { sequelize, tableName: 'account_tokens', underscored: true, updatedAt: false },
  );
  Institution.belongsTo(Province, { foreignKey: 'provinceCode', targetKey: 'code', as: 'province' });
  User.belongsTo(Institution, { foreignKey: 'institutionId', as: 'institution' });
  User.hasMany(UserRole, { foreignKey: 'userId', as: 'roles' });
  UserRole.belongsTo(User, { foreignKey: 'userId', as: 'user' });
  UserRole.belongsTo(Institution, { foreignKey: 'institutionId', as: 'institution' });
  InstitutionRequest.belongsTo(User, { foreignKey: 'requestedBy', as: 'requester' });
}
