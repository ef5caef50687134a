/**
 * Keeps each proposal's denormalised facts (facts-rules.ts) up to date on the proposals row (the officers'
 * visibility rule reads its `province_codes`, the screening list the rest).
 *
 * Every writer of partners, budget lines, the lead or an institution's type / province calls
 * `refreshProposalFacts` inside its own transaction, so the facts change atomically with what they summarise.
 * Plain SQL on table and column names only (no models), so the migration that adds the columns backfills with it.
 */
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import type { InstitutionType } from '../people/rules.js';
import { NO_FACTS, proposalFacts, type FactsPartner, type ProposalFacts } from './facts-rules.js';

interface PartnerRow {
  id: number;
  proposal_id: number;
  province_code: string;
  is_lead: number | boolean | string;
  self_funded_fen: number | string;
  type: InstitutionType;
  inst_province: string;
}

/** The facts of each proposal in `ids`, computed from its partners, their institutions and budget lines. */
export async function computeFacts(sequelize: Sequelize, ids: number[], transaction?: Transaction): Promise<Map<number, ProposalFacts>> {
  const out = new Map<number, ProposalFacts>(ids.map((id) => [id, NO_FACTS]));
  if (!ids.length) return out;
  const partners = await sequelize.query<PartnerRow>(
    `SELECT pp.id, pp.proposal_id, pp.province_code, pp.is_lead, pp.self_funded_fen, i.type, i.province_code AS inst_province
     FROM proposal_partners pp JOIN institutions i ON i.id = pp.institution_id
     WHERE pp.proposal_id IN (:ids) ORDER BY pp.proposal_id, pp.sort_order, pp.id`,
    { type: QueryTypes.SELECT, replacements: { ids }, transaction },
  );
  const sums = await sequelize.query<{ partner_id: number; req: number | string }>(
    'SELECT partner_id, SUM(amount_fen) AS req FROM budget_lines WHERE proposal_id IN (:ids) GROUP BY partner_id',
    { type: QueryTypes.SELECT, replacements: { ids }, transaction },
  );
  const requested = new Map(sums.map((s) => [Number(s.partner_id), Number(s.req)]));
  const byProposal = new Map<number, FactsPartner[]>();
  for (const p of partners) {
    const list = byProposal.get(Number(p.proposal_id)) ?? [];
    list.push({
      provinceCode: p.province_code,
      isLead: p.is_lead === true || Number(p.is_lead) === 1,
      type: p.type,
      institutionProvince: p.inst_province,
      requestedFen: requested.get(Number(p.id)) ?? 0,
      selfFundedFen: Number(p.self_funded_fen),
    });
    byProposal.set(Number(p.proposal_id), list);
  }
  for (const [id, list] of byProposal) out.set(id, proposalFacts(list));
  return out;
}

/** Recompute and store the facts of the given proposals (in the caller's transaction). */
export async function refreshProposalFacts(sequelize: Sequelize, ids: number[], transaction: Transaction | undefined): Promise<void> {
  const unique = [...new Set(ids)];
  if (!unique.length) return;
  const facts = await computeFacts(sequelize, unique, transaction);
  for (const [id, f] of facts) {
    await sequelize.query(
      `UPDATE proposals SET total_request_fen = :total, max_partner_request_fen = :max, self_funded_fen = :self, partner_count = :partners,
         province_count = :nProvinces, province_codes = :codes, lead_type = :leadType, lead_province = :leadProvince, enterprise_min_self_pct = :entMin
       WHERE id = :id`,
      {
        replacements: { id, total: f.totalRequestFen, max: f.maxPartnerRequestFen, self: f.selfFundedFen, partners: f.partnerCount, nProvinces: f.provinceCount, codes: f.provinces.join(','), leadType: f.leadType, leadProvince: f.leadProvince, entMin: f.enterpriseMinSelfPct },
        transaction,
      },
    );
  }
}

/** Proposals that have the institution as a partner (their facts follow the institution's type and province). */
export async function proposalsWithInstitution(sequelize: Sequelize, institutionId: number, transaction?: Transaction): Promise<number[]> {
  const rows = await sequelize.query<{ proposal_id: number }>('SELECT DISTINCT proposal_id FROM proposal_partners WHERE institution_id = :institutionId', {
    type: QueryTypes.SELECT,
    replacements: { institutionId },
    transaction,
  });
  return rows.map((r) => Number(r.proposal_id));
}

/** Every proposal's id (the backfill). */
export async function allProposalIds(sequelize: Sequelize, transaction?: Transaction): Promise<number[]> {
  const rows = await sequelize.query<{ id: number }>('SELECT id FROM proposals ORDER BY id', { type: QueryTypes.SELECT, transaction });
  return rows.map((r) => Number(r.id));
}
