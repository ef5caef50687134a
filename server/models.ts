/** Registers every area's Sequelize models on one connection. */
import type { Sequelize } from 'sequelize';
import { initAuditModel } from './platform/audit.js';
import { initOutboxModel } from './platform/mail/outbox.js';
import { initPeopleModels } from './people/models.js';

export function initModels(sequelize: Sequelize): void {
  initAuditModel(sequelize);
  initOutboxModel(sequelize);
  initPeopleModels(sequelize);
}
