/**
 * Conflicts of interest (回避), the pure part: from plain facts about proposals, experts and the decisions on
 * record (experts' declarations, officers' additions and lifts), every conflict between an expert and a
 * proposal with its cause. No Express, no Sequelize; experts-conflicts.ts loads the facts.
 *
 * Causes (one conflict per expert × proposal × cause):
 *   sameInstitution      the expert's institution is the lead or a partner institution
 *   consortiumMember     the expert is the PI or a partner's contact person
 *   sanctioned           the expert is under an integrity sanction at the time asked about
 *   excludedByApplicant  the applicant's exclusion list names the expert: by account, or by normalised name
 *                        (and institution, when the applicant gave one)
 *   declared             the expert declared a conflict with the proposal
 *   leadProvince         the call forbids experts from the lead institution's province, and the expert is from it
 *   officerAdded         an officer added a conflict
 * An officer's lift (one cause, one pair, with a reason) marks that conflict lifted — except a sanction, which
 * no one can lift. Lifted conflicts are still returned (with the reason) so pages can show them; `blocking`
 * keeps those that still stop an assignment.
 */

export const CONFLICT_CAUSES = ['sanctioned', 'consortiumMember', 'sameInstitution', 'excludedByApplicant', 'declared', 'leadProvince', 'officerAdded'] as const;
export type ConflictCause = (typeof CONFLICT_CAUSES)[number];

/** Causes an officer may lift. A sanction never; an officer's own addition is withdrawn, not lifted. */
export const LIFTABLE_CAUSES: readonly ConflictCause[] = ['consortiumMember', 'sameInstitution', 'excludedByApplicant', 'declared', 'leadProvince'];
export const isLiftable = (c: string): c is ConflictCause => (LIFTABLE_CAUSES as readonly string[]).includes(c);

export interface ProposalConflictFacts {
  proposalId: number;
  piUserId: number;
  /** Lead and partner institutions. */
  institutions: Array<{ institutionId: number; name: string; isLead: boolean }>;
  contactUserIds: number[];
  leadProvinceCode: string | null;
  noExpertFromLeadProvince: boolean;
  exclusions: Array<{ expertUserId: number | null; expertName: string; expertInstitution: string | null; reason: string }>;
}

export interface ExpertConflictFacts {
  userId: number;
  name: string;
  institutionId: number | null;
  /** The institution's names (Chinese, English) for matching the applicant's exclusions. */
  institutionNames: string[];
  provinceCode: string | null;
  /** Personal sanctions in force at the time asked about. */
  sanctions: Array<{ id: number; provinceCode: string; lastDay: string | null }>;
}

export interface ConflictDecisions {
  declared: Array<{ proposalId: number; expertUserId: number; reason: string }>;
  overrides: Array<{ proposalId: number; expertUserId: number; kind: 'add' | 'lift'; cause: string; reason: string }>;
}

export interface Conflict {
  proposalId: number;
  expertUserId: number;
  cause: ConflictCause;
  /** What the page shows with the cause (institution, role, reason, sanction…). */
  detail: Record<string, string | number>;
  /** Set when an officer lifted this conflict. */
  lifted: { reason: string } | null;
}

/** Names compared as people type them: Unicode-compatible forms (full-width → half-width), no spaces, no case. */
export function normaliseName(s: string): string {
  return s.normalize('NFKC').replace(/[\s\u00b7\u30fb.·]+/g, '').toLowerCase();
}

const pairKey = (proposalId: number, expertUserId: number) => `${proposalId}:${expertUserId}`;

/** Does this exclusion name this expert? */
export function exclusionMatches(x: ProposalConflictFacts['exclusions'][number], e: ExpertConflictFacts): 'account' | 'name' | null {
  if (x.expertUserId !== null) return x.expertUserId === e.userId ? 'account' : null;
  if (!x.expertName.trim() || normaliseName(x.expertName) !== normaliseName(e.name)) return null;
  if (!x.expertInstitution || !x.expertInstitution.trim()) return 'name';
  const wanted = normaliseName(x.expertInstitution);
  return e.institutionNames.some((n) => normaliseName(n) === wanted) ? 'name' : null;
}

/** The computed causes (before lifts) for one pair. */
function computed(p: ProposalConflictFacts, e: ExpertConflictFacts, declared: Map<number, string> | undefined, added: Map<number, string> | undefined): Array<{ cause: ConflictCause; detail: Record<string, string | number> }> {
  const out: Array<{ cause: ConflictCause; detail: Record<string, string | number> }> = [];
  const s = e.sanctions[0];
  if (s) out.push({ cause: 'sanctioned', detail: { sanctionId: s.id, province: s.provinceCode, until: s.lastDay ?? '' } });
  if (p.piUserId === e.userId) out.push({ cause: 'consortiumMember', detail: { role: 'pi' } });
  else if (p.contactUserIds.includes(e.userId)) out.push({ cause: 'consortiumMember', detail: { role: 'partnerContact' } });
  const inst = e.institutionId === null ? undefined : (p.institutions.find((i) => i.institutionId === e.institutionId && i.isLead) ?? p.institutions.find((i) => i.institutionId === e.institutionId));
  if (inst) out.push({ cause: 'sameInstitution', detail: { institution: inst.name, role: inst.isLead ? 'lead' : 'partner' } });
  for (const x of p.exclusions) {
    const how = exclusionMatches(x, e);
    if (how) {
      out.push({ cause: 'excludedByApplicant', detail: { reason: x.reason, matchedBy: how } });
      break;
    }
  }
  const d = declared?.get(e.userId);
  if (d !== undefined) out.push({ cause: 'declared', detail: { reason: d } });
  if (p.noExpertFromLeadProvince && p.leadProvinceCode !== null && e.provinceCode === p.leadProvinceCode) out.push({ cause: 'leadProvince', detail: { province: p.leadProvinceCode } });
  const a = added?.get(e.userId);
  if (a !== undefined) out.push({ cause: 'officerAdded', detail: { reason: a } });
  return out;
}

/**
 * Every conflict between these proposals and these experts, lifted ones included, in a stable order (proposals as
 * given, then experts as given, then causes). A call has thousands of proposals × experts and few conflicts, so the
 * pairs are not all tried: indexes of the experts (by account, institution, normalised name, province) give each
 * proposal the experts that may have a cause with it, and `computed` decides on those alone.
 */
export function conflictMatrix(proposals: readonly ProposalConflictFacts[], experts: readonly ExpertConflictFacts[], d: ConflictDecisions): Conflict[] {
  // Per proposal: expert → reason of a declaration, of an officer's addition; "expert:cause" → reason of a lift.
  const declared = byProposal(d.declared, (x) => x.expertUserId);
  const added = byProposal(d.overrides.filter((o) => o.kind === 'add' && o.cause === 'officerAdded'), (o) => o.expertUserId);
  const lifts = byProposal(d.overrides.filter((o) => o.kind === 'lift' && isLiftable(o.cause)), (o) => `${o.expertUserId}:${o.cause}`);
  const ix = expertIndex(experts);
  const mark = new Uint8Array(experts.length);
  const out: Conflict[] = [];
  for (const p of proposals) {
    const cand: number[] = [];
    const take = (list: readonly number[] | undefined) => {
      for (const i of list ?? []) if (!mark[i]) (mark[i] = 1), cand.push(i);
    };
    take(ix.sanctioned);
    const dec = declared.get(p.proposalId);
    const add = added.get(p.proposalId);
    const lift = lifts.get(p.proposalId);
    for (const u of [p.piUserId, ...p.contactUserIds, ...(dec?.keys() ?? []), ...(add?.keys() ?? [])]) take(ix.byUser.get(u));
    for (const inst of p.institutions) take(ix.byInstitution.get(inst.institutionId));
    for (const x of p.exclusions) take(x.expertUserId !== null ? ix.byUser.get(x.expertUserId) : ix.byName.get(normaliseName(x.expertName)));
    if (p.noExpertFromLeadProvince && p.leadProvinceCode !== null) take(ix.byProvince.get(p.leadProvinceCode));
    cand.sort((a, b) => a - b);
    for (const i of cand) {
      mark[i] = 0;
      const e = experts[i]!;
      for (const c of computed(p, e, dec, add)) {
        const lifted = lift?.get(`${e.userId}:${c.cause}`);
        out.push({ proposalId: p.proposalId, expertUserId: e.userId, cause: c.cause, detail: c.detail, lifted: lifted === undefined ? null : { reason: lifted } });
      }
    }
  }
  return out;
}

/** proposal → (key of the row → its reason); a later row for the same key wins, as in a plain Map. */
function byProposal<T extends { proposalId: number; reason: string }, K>(rows: readonly T[], key: (r: T) => K): Map<number, Map<K, string>> {
  const m = new Map<number, Map<K, string>>();
  for (const r of rows) {
    let inner = m.get(r.proposalId);
    if (!inner) m.set(r.proposalId, (inner = new Map()));
    inner.set(key(r), r.reason);
  }
  return m;
}

function push<K>(m: Map<K, number[]>, k: K, v: number): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

/** Positions of the experts by account, institution, normalised name and province; the sanctioned ones. */
function expertIndex(experts: readonly ExpertConflictFacts[]) {
  const ix = { byUser: new Map<number, number[]>(), byInstitution: new Map<number, number[]>(), byName: new Map<string, number[]>(), byProvince: new Map<string, number[]>(), sanctioned: [] as number[] };
  experts.forEach((e, i) => {
    push(ix.byUser, e.userId, i);
    if (e.institutionId !== null) push(ix.byInstitution, e.institutionId, i);
    push(ix.byName, normaliseName(e.name), i);
    if (e.provinceCode !== null) push(ix.byProvince, e.provinceCode, i);
    if (e.sanctions.length) ix.sanctioned.push(i);
  });
  return ix;
}

/** Every conflict of one proposal with these experts. */
export function conflictsOf(p: ProposalConflictFacts, experts: readonly ExpertConflictFacts[], d: ConflictDecisions): Conflict[] {
  return conflictMatrix([p], experts, d);
}

/** The conflicts that still stop an assignment (not lifted). */
export function blocking(conflicts: readonly Conflict[]): Conflict[] {
  return conflicts.filter((c) => c.lifted === null);
}

/** "proposalId:expertUserId" of every pair that may not be assigned — what an optimiser needs. */
export function forbiddenPairs(conflicts: readonly Conflict[]): Set<string> {
  return new Set(blocking(conflicts).map((c) => pairKey(c.proposalId, c.expertUserId)));
}

/** The blocking pairs as the assignment optimiser takes them (assignment-instance.ts `conflicts: PairRef[]`). */
export function blockingPairs(conflicts: readonly Conflict[]): Array<{ expertId: number; proposalId: number }> {
  const seen = new Map<number, Set<number>>();
  const out: Array<{ expertId: number; proposalId: number }> = [];
  for (const c of conflicts) {
    if (c.lifted !== null) continue;
    let experts = seen.get(c.proposalId);
    if (!experts) seen.set(c.proposalId, (experts = new Set()));
    if (!experts.has(c.expertUserId)) experts.add(c.expertUserId), out.push({ expertId: c.expertUserId, proposalId: c.proposalId });
  }
  return out;
}
