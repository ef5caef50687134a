import type { MigrationFn } from '../server/platform/migrator.js';

/** The database itself refuses UPDATE and DELETE on audit rows. */
export const up: MigrationFn = async ({ context: { sequelize } }) => {
  if (sequelize.getDialect() === 'sqlite') {
    await sequelize.query(`CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END`);
    await sequelize.query(`CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END`);
  } else {
    await sequelize.query(`CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit events are append-only'`);
    await sequelize.query(`CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit events are append-only'`);
  }
};
export const down: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.query('DROP TRIGGER IF EXISTS audit_events_no_update');
  await sequelize.query('DROP TRIGGER IF EXISTS audit_events_no_delete');
};
