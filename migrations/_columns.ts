/** Column shorthands shared by migrations (not a migration: the runner only picks files starting with a digit). */
import { DataTypes } from 'sequelize';

export const id = { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false };
export const timestamps = {
  created_at: { type: DataTypes.DATE, allowNull: false },
  updated_at: { type: DataTypes.DATE, allowNull: false },
};
/** varchar(191): the longest indexable utf8mb4 column on older InnoDB row formats. */
export const key191 = (allowNull = false) => ({ type: DataTypes.STRING(191), allowNull });
export const fk = (table: string, allowNull = true, onDelete: 'RESTRICT' | 'CASCADE' | 'SET NULL' = 'RESTRICT') => ({
  type: DataTypes.INTEGER,
  allowNull,
  references: { model: table, key: 'id' },
  onDelete,
  onUpdate: 'CASCADE',
});
