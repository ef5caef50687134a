/**
 * A cheap fingerprint of everything a call's reviewer assignment is computed from, so that the run can load and
 * solve outside the write transaction and still never store a stale result: the fingerprint is taken before the
 * instance is loaded and again inside the short transaction that stores the result; if they differ, something
 * the result depends on changed meanwhile.
 *
 * What is covered (aggregates per table: row counts, sums of ids and of the columns that matter, latest update):
 *   the call (status, k, the lead-province rule); its eligible proposals, their partners and the applicants'
 *   exclusions; the call's assignment rows by status and its pins and forbids; declared conflicts and officers'
 *   conflict decisions on its proposals; experts (role, profile, availability, load, institution, disabled,
 *   disciplines); institutions; integrity sanctions.
 * Rows only ever get new, larger ids, so a count with a sum of ids changes with any insert or delete; status moves
 * of assignment rows change the per-status counts (the statuses only move forward); column sums and the latest
 * updated_at catch edits.
 */
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';

const OF_CALL = 'SELECT id FROM proposals WHERE call_id = :callId';

const QUERIES: readonly string[] = [
  'SELECT status, reviewers_per_proposal, no_expert_from_lead_province, updated_at FROM calls WHERE id = :callId',
  "SELECT COUNT(*) AS n, SUM(id) AS ids, SUM(pi_user_id) AS pis, SUM(COALESCE(lead_institution_id, 0)) AS leads, MAX(updated_at) AS at FROM proposals WHERE call_id = :callId AND status = 'eligible'",
  `SELECT COUNT(*) AS n, SUM(id) AS ids, SUM(institution_id) AS insts, SUM(COALESCE(contact_user_id, 0)) AS contacts FROM proposal_partners WHERE proposal_id IN (${OF_CALL})`,
  `SELECT COUNT(*) AS n, SUM(id) AS ids, SUM(COALESCE(expert_user_id, 0)) AS experts FROM reviewer_exclusions WHERE proposal_id IN (${OF_CALL})`,
  'SELECT status, COUNT(*) AS n, SUM(id) AS ids, SUM(expert_user_id) AS experts FROM review_assignments WHERE call_id = :callId GROUP BY status ORDER BY status',
  'SELECT kind, COUNT(*) AS n, SUM(id) AS ids, SUM(expert_user_id) AS experts, SUM(proposal_id) AS proposals FROM assignment_constraints WHERE call_id = :callId GROUP BY kind ORDER BY kind',
  `SELECT COUNT(*) AS n, SUM(id) AS ids, SUM(expert_user_id) AS experts FROM declared_conflicts WHERE proposal_id IN (${OF_CALL})`,
  `SELECT kind, cause, COUNT(*) AS n, SUM(id) AS ids, SUM(expert_user_id) AS experts FROM conflict_overrides WHERE proposal_id IN (${OF_CALL}) GROUP BY kind, cause ORDER BY kind, cause`,
  `SELECT COUNT(*) AS n, SUM(ep.user_id) AS ids, SUM(ep.max_load) AS loads, SUM(CASE WHEN ep.available THEN ep.user_id ELSE 0 END) AS available,
          MAX(ep.updated_at) AS at, SUM(COALESCE(u.institution_id, 0)) AS insts, SUM(CASE WHEN u.disabled_at IS NULL THEN u.id ELSE 0 END) AS enabled, MAX(u.updated_at) AS uat
     FROM expert_profiles ep JOIN users u ON u.id = ep.user_id`,
  "SELECT COUNT(*) AS n, SUM(user_id) AS ids FROM user_roles WHERE role = 'expert'",
  'SELECT COUNT(*) AS n, SUM(id) AS ids, SUM(user_id) AS users FROM expert_disciplines',
  'SELECT COUNT(*) AS n, SUM(id) AS ids, MAX(updated_at) AS at FROM institutions',
  'SELECT COUNT(*) AS n, SUM(id) AS ids, COUNT(lifted_at) AS lifted, MAX(updated_at) AS at FROM integrity_sanctions',
];

/** The fingerprint of a call's assignment inputs, as a string to compare. Inside `transaction` when given. */
export async function assignmentFingerprint(sequelize: Sequelize, callId: number, transaction?: Transaction): Promise<string> {
  const run = (sql: string) => sequelize.query<Record<string, unknown>>(sql, { replacements: { callId }, type: QueryTypes.SELECT, transaction });
  // In a transaction the queries share its one connection; outside, they may run side by side.
  const parts = transaction ? await sequential(QUERIES, run) : await Promise.all(QUERIES.map(run));
  return JSON.stringify(parts.map((rows) => rows.map((r) => Object.values(r).map((v) => (v instanceof Date ? v.getTime() : v === null ? null : String(v))))));
}

async function sequential<T>(xs: readonly string[], fn: (x: string) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (const x of xs) out.push(await fn(x));
  return out;
}
