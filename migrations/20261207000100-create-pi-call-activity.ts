import { DataTypes } from 'sequelize';
import type { MigrationFn } from '../server/platform/migrator.js';

/**
 * pi_call_activity: how many active proposals (submitted, endorsed, eligible: ACTIVE_STATUSES in
 * proposals/rules.ts) each PI has in each call, the per-PI limit's (限项) count, kept by triggers on proposals so
 * that every writer keeps it (the app's commands, the seeds, imports), in the writer's own statement. The
 * screening list joins it by primary key instead of counting for each row: a dependent subquery per row was
 * about 150 of the list statement's ~400 µs on MariaDB, and the page served 13 % more with the join
 * (bench/HISTORY.md, session 14). Submitting checks the limit against the proposals themselves, as before.
 *
 * If ACTIVE_STATUSES changes, a migration must recreate these triggers (a test compares the two).
 */
const ACTIVE = "('submitted', 'endorsed', 'eligible')";
const TRIGGERS = ['pi_call_activity_ai', 'pi_call_activity_au', 'pi_call_activity_ad'];

export const up: MigrationFn = async ({ context: { qi, sequelize } }) => {
  await qi.createTable('pi_call_activity', {
    call_id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true },
    pi_user_id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true },
    active: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
  });
  const q = (sql: string) => sequelize.query(sql);
  if (sequelize.getDialect() === 'sqlite') {
    const add = (row: 'NEW' | 'OLD') =>
      `INSERT OR IGNORE INTO pi_call_activity (call_id, pi_user_id, active) VALUES (${row}.call_id, ${row}.pi_user_id, 0);
       UPDATE pi_call_activity SET active = active + 1 WHERE call_id = ${row}.call_id AND pi_user_id = ${row}.pi_user_id;`;
    const remove = (row: 'NEW' | 'OLD') => `UPDATE pi_call_activity SET active = active - 1 WHERE call_id = ${row}.call_id AND pi_user_id = ${row}.pi_user_id;`;
    await q(`CREATE TRIGGER pi_call_activity_ai AFTER INSERT ON proposals WHEN NEW.status IN ${ACTIVE} BEGIN ${add('NEW')} END`);
    await q(`CREATE TRIGGER pi_call_activity_ad AFTER DELETE ON proposals WHEN OLD.status IN ${ACTIVE} BEGIN ${remove('OLD')} END`);
    // An update that changes whether the row counts, or moves a counted row: the old row leaves its count, the new joins its own.
    await q(`CREATE TRIGGER pi_call_activity_au AFTER UPDATE OF status, call_id, pi_user_id ON proposals
      WHEN (COALESCE(OLD.status, '') IN ${ACTIVE}) <> (COALESCE(NEW.status, '') IN ${ACTIVE})
        OR (NEW.status IN ${ACTIVE} AND (OLD.call_id IS NOT NEW.call_id OR OLD.pi_user_id IS NOT NEW.pi_user_id))
      BEGIN
        UPDATE pi_call_activity SET active = active - 1 WHERE OLD.status IN ${ACTIVE} AND call_id = OLD.call_id AND pi_user_id = OLD.pi_user_id;
        INSERT OR IGNORE INTO pi_call_activity (call_id, pi_user_id, active) SELECT NEW.call_id, NEW.pi_user_id, 0 WHERE NEW.status IN ${ACTIVE};
        UPDATE pi_call_activity SET active = active + 1 WHERE NEW.status IN ${ACTIVE} AND call_id = NEW.call_id AND pi_user_id = NEW.pi_user_id;
      END`);
  } else {
    const add = (row: 'NEW' | 'OLD') => `INSERT INTO pi_call_activity (call_id, pi_user_id, active) VALUES (${row}.call_id, ${row}.pi_user_id, 1) ON DUPLICATE KEY UPDATE active = active + 1`;
    const remove = (row: 'NEW' | 'OLD') => `UPDATE pi_call_activity SET active = active - 1 WHERE call_id = ${row}.call_id AND pi_user_id = ${row}.pi_user_id`;
    await q(`CREATE TRIGGER pi_call_activity_ai AFTER INSERT ON proposals FOR EACH ROW BEGIN IF NEW.status IN ${ACTIVE} THEN ${add('NEW')}; END IF; END`);
    await q(`CREATE TRIGGER pi_call_activity_ad AFTER DELETE ON proposals FOR EACH ROW BEGIN IF OLD.status IN ${ACTIVE} THEN ${remove('OLD')}; END IF; END`);
    await q(`CREATE TRIGGER pi_call_activity_au AFTER UPDATE ON proposals FOR EACH ROW BEGIN
      IF NOT (OLD.status <=> NEW.status) OR NOT (OLD.call_id <=> NEW.call_id) OR NOT (OLD.pi_user_id <=> NEW.pi_user_id) THEN
        IF OLD.status IN ${ACTIVE} THEN ${remove('OLD')}; END IF;
        IF NEW.status IN ${ACTIVE} THEN ${add('NEW')}; END IF;
      END IF;
    END`);
  }
  await q(`INSERT INTO pi_call_activity (call_id, pi_user_id, active) SELECT call_id, pi_user_id, COUNT(*) FROM proposals WHERE status IN ${ACTIVE} GROUP BY call_id, pi_user_id`);
};

export const down: MigrationFn = async ({ context: { qi, sequelize } }) => {
  for (const t of TRIGGERS) await sequelize.query(`DROP TRIGGER IF EXISTS ${t}`);
  await qi.dropTable('pi_call_activity');
};
