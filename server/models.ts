/**
 * Registers every area's Sequelize models on one connection. Sequelize models are process-wide classes, so a
 * second platform in the same process (tests, tools) rebinds them; `releaseModels` gives them back to the
 * previous connection when that platform closes.
 */
import type { Sequelize } from 'sequelize';
import { initAuditModel } from './platform/audit.js';
import { initOutboxModel } from './platform/mail/outbox.js';
import { initPeopleModels } from './people/models.js';
import { initCallModels } from './calls/models.js';
import { initProposalModels } from './proposals/models.js';
import { initIntegrityModels } from './integrity/models.js';
import { initExpertModels } from './review/models.js';
import { initReviewModels } from './review/review-models.js';

const bindings: Sequelize[] = [];

function bind(sequelize: Sequelize): void {
  initAuditModel(sequelize);
  initOutboxModel(sequelize);
  initPeopleModels(sequelize);
  initCallModels(sequelize);
  initProposalModels(sequelize);
  initIntegrityModels(sequelize);
  initExpertModels(sequelize);
  initReviewModels(sequelize);
}

export function initModels(sequelize: Sequelize): void {
  bindings.push(sequelize);
  bind(sequelize);
}

export function releaseModels(sequelize: Sequelize): void {
  const i = bindings.lastIndexOf(sequelize);
  if (i < 0) return;
  const wasCurrent = i === bindings.length - 1;
  bindings.splice(i, 1);
  const previous = bindings[bindings.length - 1];
  if (wasCurrent && previous) bind(previous);
}
