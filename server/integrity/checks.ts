/**
 * Who is under an integrity sanction (科研失信) at a given instant: the checks other areas call — a proposal's
 * checklist and submit, the experts' pages, conflict checks. The register is read from memory (one second at
 * most, cleared by this process's writes); a command's transaction reads the table itself.
 */
import type { Sequelize, Transaction } from 'sequelize';
import { ReadCache } from '../platform/read-cache.js';
import { instanceFromRow, sqlOf, type Param } from '../platform/sql.js';
import type { ProposalBundle } from '../proposals/bundle.js';
import type { ChecklistItem } from '../proposals/rules.js';
import { IntegritySanction, onSanctionsChanged } from './models.js';
import { effectiveEnd, lastDayOf, sanctionsAgainst, shanghaiDay, type SubjectType } from './rules.js';

/** A sanction in force, with what a page, a checklist or a refusal shows about it. */
export interface ActiveSanction {
  id: number;
  subjectType: SubjectType;
  subjectName: string;
  subjectUserId: number | null;
  subjectInstitutionId: number | null;
  subjectCreditCode: string | null;
  provinceCode: string;
  reason: string;
  legalBasis: string;
  startsAt: Date;
  /** The first day under sanction (Beijing calendar, YYYY-MM-DD). */
  startDay: string;
  /** Effective end (exclusive): the earlier of the end date and the lift; null = no end date. */
  endsAt: Date | null;
  /** The last day under sanction (Beijing calendar, inclusive), or null when open-ended. */
  lastDay: string | null;
}

function toActive(s: IntegritySanction): ActiveSanction {
  const end = effectiveEnd(s);
  return {
    id: s.id,
    subjectType: s.subjectType,
    subjectName: s.subjectName,
    subjectUserId: s.subjectUserId,
    subjectInstitutionId: s.subjectInstitutionId,
    subjectCreditCode: s.subjectCreditCode,
    provinceCode: s.provinceCode,
    reason: s.reason,
    legalBasis: s.legalBasis,
    startsAt: s.startsAt,
    startDay: shanghaiDay(s.startsAt),
    endsAt: end,
    lastDay: end ? lastDayOf(end) : null,
  };
}

export interface PartyIds {
  userIds?: Iterable<number>;
  institutionIds?: Iterable<number>;
  creditCodes?: Iterable<string>;
  /** `creditCodes` hold the code of every institution in `institutionIds` already (no need to look them up). */
  codesComplete?: boolean;
}

interface SanctionIndex {
  byUser: Map<number, IntegritySanction[]>;
  byCode: Map<string, IntegritySanction[]>;
  byInstitution: Map<number, IntegritySanction[]>;
}

/**
 * Every sanction, by subject, kept for a second (platform/read-cache.ts) and dropped at once when this process
 * records, corrects or lifts one: every checklist asks, and at a deadline every submit. The register is small
 * (people and institutions found in breach), and an instant in the past or future is answered from it too.
 */
const sanctionIndex = new ReadCache<Sequelize, SanctionIndex>(1000, async (sequelize) => {
  const rows = (await sqlOf(sequelize).all<Record<string, unknown>>('SELECT * FROM integrity_sanctions')).map((r) => instanceFromRow(IntegritySanction, r));
  const index: SanctionIndex = { byUser: new Map(), byCode: new Map(), byInstitution: new Map() };
  const add = <K>(m: Map<K, IntegritySanction[]>, k: K | null, s: IntegritySanction) => {
    if (k === null) return;
    const list = m.get(k);
    if (list) list.push(s);
    else m.set(k, [s]);
  };
  for (const s of rows) {
    add(index.byUser, s.subjectUserId, s);
    add(index.byCode, s.subjectCreditCode?.toUpperCase() ?? null, s);
    add(index.byInstitution, s.subjectInstitutionId, s);
  }
  return index;
});
onSanctionsChanged(() => sanctionIndex.clear());

/**
 * The sanctions in force at `at` against any of these people (user ids) or institutions (registry ids, or
 * credit codes — an institution is matched by its credit code too, so a sanction recorded before the
 * institution joined the registry still applies). Pass the transaction of a command that relies on the answer:
 * it then reads the table itself.
 */
export async function activeSanctionsFor(parties: PartyIds, at: Date, transaction?: Transaction): Promise<ActiveSanction[]> {
  const userIds = [...new Set(parties.userIds ?? [])].filter((n) => Number.isInteger(n));
  const institutionIds = [...new Set(parties.institutionIds ?? [])].filter((n) => Number.isInteger(n));
  const codes = new Set([...(parties.creditCodes ?? [])].map((c) => c.trim().toUpperCase()).filter(Boolean));
  // Plain SQL (platform/sql.ts): every checklist, and every submit at a deadline, asks.
  const sql = sqlOf(IntegritySanction.sequelize!);
  if (institutionIds.length && !parties.codesComplete) {
    const rows = await sql.all<{ credit_code: string }>('SELECT credit_code FROM institutions WHERE id IN (?)', [institutionIds], transaction);
    for (const r of rows) codes.add(r.credit_code.toUpperCase());
  }
  const who: string[] = [];
  const params: Param[] = [];
  if (userIds.length) (who.push("(subject_type = 'person' AND subject_user_id IN (?))"), params.push(userIds));
  if (codes.size) (who.push("(subject_type = 'institution' AND subject_credit_code IN (?))"), params.push([...codes]));
  if (institutionIds.length) (who.push("(subject_type = 'institution' AND subject_institution_id IN (?))"), params.push(institutionIds));
  if (!who.length) return [];
  let rows: IntegritySanction[];
  if (transaction) {
    const raw = await sql.all<Record<string, unknown>>(`SELECT * FROM integrity_sanctions WHERE (${who.join(' OR ')}) AND starts_at <= ? AND (ends_at IS NULL OR ends_at > ?) AND (lifted_at IS NULL OR lifted_at > ?)`, [...params, at, at, at], transaction);
    rows = raw.map((r) => instanceFromRow(IntegritySanction, r));
  } else {
    const index = await sanctionIndex.get(IntegritySanction.sequelize!);
    const found = new Set<IntegritySanction>();
    for (const id of userIds) for (const s of index.byUser.get(id) ?? []) found.add(s);
    for (const code of codes) for (const s of index.byCode.get(code) ?? []) found.add(s);
    for (const id of institutionIds) for (const s of index.byInstitution.get(id) ?? []) found.add(s);
    rows = [...found];
  }
  rows.sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime() || a.id - b.id);
  // The decision in plain code (the SQL or the index only narrow the rows): start inclusive, end exclusive.
  return sanctionsAgainst(rows, { userIds, institutionIds, creditCodes: codes }, at).map(toActive);
}

/**
 * The people and institutions of a proposal: the PI, the partners' contacts, every consortium institution
 * (with the credit codes the bundle read).
 */
export function partiesOf(bundle: ProposalBundle): Required<PartyIds> & { userIds: number[]; institutionIds: number[] } {
  const userIds = [bundle.proposal.piUserId, ...bundle.partners.map((p) => p.contactUserId).filter((x): x is number => x !== null)];
  const institutionIds = bundle.partners.map((p) => p.institutionId);
  if (bundle.proposal.leadInstitutionId !== null) institutionIds.push(bundle.proposal.leadInstitutionId);
  const creditCodes = bundle.partners.map((p) => p.creditCode).filter((c): c is string => !!c);
  const known = new Set(bundle.partners.filter((p) => p.creditCode).map((p) => p.institutionId));
  return { userIds: [...new Set(userIds)], institutionIds: [...new Set(institutionIds)], creditCodes, codesComplete: institutionIds.every((id) => known.has(id)) };
}

/** The sanctions in force at `at` against anyone in the proposal's consortium. */
export function sanctionsAgainstProposal(bundle: ProposalBundle, at: Date, transaction?: Transaction): Promise<ActiveSanction[]> {
  return activeSanctionsFor(partiesOf(bundle), at, transaction);
}

/**
 * Checklist items (proposals/rules.ts `ChecklistItem`, key 'sanction', step 'consortium') for every sanction in
 * force at `at` against the proposal's PI, partner contacts or institutions. `params.who` is the sanctioned
 * person or institution; `until` the last day (YYYY-MM-DD, '' when open-ended), `province` the recording
 * province code, `basis` the legal basis.
 */
export async function sanctionProblems(bundle: ProposalBundle, at: Date, transaction?: Transaction): Promise<ChecklistItem[]> {
  return (await sanctionsAgainstProposal(bundle, at, transaction)).map((s) => ({
    key: s.lastDay ? 'sanction' : 'sanctionOpenEnded',
    ok: false,
    step: 'consortium',
    params: { who: s.subjectName, until: s.lastDay ?? '', province: s.provinceCode, basis: s.legalBasis },
  }));
}

/** Just the names, for `checklist(…, { sanctioned })` in proposals/rules.ts. */
export async function sanctionedNames(bundle: ProposalBundle, at: Date, transaction?: Transaction): Promise<string[]> {
  return [...new Set((await sanctionsAgainstProposal(bundle, at, transaction)).map((s) => s.subjectName))];
}

/** For the experts' pages: which of these users are under a personal sanction right now. */
export async function sanctionedUserIds(userIds: number[], at = new Date()): Promise<Set<number>> {
  if (!userIds.length) return new Set();
  return new Set((await activeSanctionsFor({ userIds }, at)).map((s) => s.subjectUserId!).filter((x) => x !== null));
}
