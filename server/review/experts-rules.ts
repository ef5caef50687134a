/**
 * Pure rules of the shared expert pool (专家库): discipline codes and keywords as typed, and the validation of
 * an import file row by row (every problem with its row and column). No Express, no Sequelize: lookups the
 * validation needs (institutions by credit code, existing accounts by e-mail) are passed in as plain maps.
 */
import { checkCreditCode, MAX_ACCOUNT_EMAIL, normaliseEmail } from '../people/rules.js';

/** NSFC-style discipline codes (学科代码): a letter and 2, 4 or 6 digits — G, G01, G0101, F020101. */
export const DISCIPLINE_CODE = /^[A-Z](?:\d{2}){1,3}$/;
export const MAX_DISCIPLINES = 10;
export const MAX_KEYWORDS = 20;
export const MAX_KEYWORD_LENGTH = 40;
/** The stored, joined list fits expert_profiles.keywords (VARCHAR(500)): 20 keywords of 40 would not. */
export const MAX_KEYWORDS_TEXT = 500;
export const LOAD_RANGE = { min: 1, max: 50, default: 5 } as const;

const LIST_SEPARATORS = /[\s,，;；、]+/;
const KEYWORD_SEPARATORS = /[,，;；、\n\r]+/;

/** "G0101, g0202；G03" → ['G0101', 'G0202', 'G03'] (upper-cased, de-duplicated, in order); `bad` lists what is not a code. */
export function parseDisciplines(raw: string): { codes: string[]; bad: string[] } {
  const codes: string[] = [];
  const bad: string[] = [];
  for (const part of raw.split(LIST_SEPARATORS)) {
    const c = part.trim().toUpperCase();
    if (!c) continue;
    if (!DISCIPLINE_CODE.test(c)) bad.push(part.trim());
    else if (!codes.includes(c)) codes.push(c);
  }
  return { codes, bad };
}

/** Keywords separated by commas, semicolons or 、 (Chinese or Western), trimmed, de-duplicated ignoring case. */
export function parseKeywords(raw: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const part of raw.split(KEYWORD_SEPARATORS)) {
    const k = part.replace(/\s+/g, ' ').trim();
    if (!k || seen.has(k.toLowerCase())) continue;
    seen.add(k.toLowerCase());
    out.push(k);
  }
  return out;
}

/** How keywords are stored and shown: joined with the Chinese semicolon. */
export const joinKeywords = (list: string[]): string => list.join('；');

export type KeywordProblem = 'tooMany' | 'tooLong' | 'tooLongInAll' | null;
export function keywordProblem(list: string[]): KeywordProblem {
  if (list.length > MAX_KEYWORDS) return 'tooMany';
  if (list.some((k) => k.length > MAX_KEYWORD_LENGTH)) return 'tooLong';
  if (joinKeywords(list).length > MAX_KEYWORDS_TEXT) return 'tooLongInAll';
  return null;
}

/** The message key of a keyword problem, under experts:profile.errors or experts:import.errors. */
export const keywordProblemKey = (p: Exclude<KeywordProblem, null>) => ({ tooMany: 'tooManyKeywords', tooLong: 'keywordTooLong', tooLongInAll: 'keywordsTooLongInAll' })[p];

// ---- import files ---------------------------------------------------------------------------------------

export const IMPORT_COLUMNS = ['name', 'email', 'creditCode', 'title', 'disciplines', 'keywords', 'maxLoad'] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];
export const REQUIRED_COLUMNS: readonly ImportColumn[] = ['name', 'email', 'creditCode', 'disciplines'];
export const MAX_IMPORT_ROWS = 2000;

/** Header texts accepted for each column (compared without case, spaces, underscores or hyphens). */
const HEADER_ALIASES: Record<ImportColumn, string[]> = {
  name: ['name', '姓名', '专家姓名'],
  email: ['email', 'e-mail', 'mail', '邮箱', '电子邮箱', '电子邮件'],
  creditCode: ['institution credit code', 'credit code', 'institution code', '统一社会信用代码', '单位统一社会信用代码', '单位信用代码', '信用代码'],
  title: ['title', '职称'],
  disciplines: ['disciplines', 'discipline', 'discipline codes', '学科代码', '学科'],
  keywords: ['keywords', 'keyword', '关键词', '研究方向'],
  maxLoad: ['max load', 'maxload', 'max load per call', '最大评审量', '评审上限', '每批最大评审量'],
};
const squash = (s: string) => s.normalize('NFKC').toLowerCase().replace(/[\s_\-]+/g, '');
const HEADER_INDEX = new Map<string, ImportColumn>(IMPORT_COLUMNS.flatMap((c) => HEADER_ALIASES[c].map((a) => [squash(a), c] as [string, ImportColumn])));

export interface ImportProblem {
  /** Spreadsheet row number (1 = the header row); 0 for the file as a whole. */
  row: number;
  column: ImportColumn | null;
  /** i18n key under experts: */
  key: string;
  /** What the cell held, shown next to the message (trimmed to 100 characters). */
  value: string;
}

/** Which column is which, from the header row; unknown, duplicate and missing required columns are problems. */
export function mapHeader(header: string[]): { columns: Map<ImportColumn, number>; problems: ImportProblem[] } {
  const columns = new Map<ImportColumn, number>();
  const problems: ImportProblem[] = [];
  header.forEach((raw, i) => {
    const text = raw.trim();
    if (!text) return;
    const col = HEADER_INDEX.get(squash(text));
    if (!col) problems.push({ row: 1, column: null, key: 'experts:import.errors.unknownColumn', value: text.slice(0, 100) });
    else if (columns.has(col)) problems.push({ row: 1, column: col, key: 'experts:import.errors.duplicateColumn', value: text.slice(0, 100) });
    else columns.set(col, i);
  });
  for (const c of REQUIRED_COLUMNS) if (!columns.has(c)) problems.push({ row: 1, column: c, key: 'experts:import.errors.missingColumn', value: '' });
  return { columns, problems };
}

export interface ImportRow {
  row: number;
  name: string;
  email: string;
  creditCode: string;
  institutionId: number;
  title: string | null;
  disciplines: string[];
  keywords: string[];
  maxLoad: number;
  /** The existing account with this e-mail, if any. */
  existingUserId: number | null;
}

export interface ExistingAccount {
  id: number;
  institutionId: number | null;
  disabled: boolean;
}

export interface ImportLookups {
  institutionsByCode: Map<string, { id: number }>;
  usersByEmail: Map<string, ExistingAccount>;
  /** The mail outbox's own address check (platform/mail/outbox.ts isValidAddress), so every accepted address can be mailed. */
  validAddress: (address: string) => boolean;
}

/**
 * Validate every data row (rows after the header; blank rows skipped). Returns the rows ready to import, or
 * every problem found — the caller imports nothing unless the problem list is empty.
 */
export function validateImport(table: string[][], lookups: ImportLookups): { rows: ImportRow[]; problems: ImportProblem[] } {
  const [header = [], ...data] = table;
  const { columns, problems } = mapHeader(header);
  if (problems.length) return { rows: [], problems };
  const rows: ImportRow[] = [];
  const seen = new Map<string, number>();
  const dataRows = data.map((cells, i) => ({ cells, row: i + 2 })).filter((r) => r.cells.some((c) => c.trim() !== ''));
  if (dataRows.length === 0) return { rows: [], problems: [{ row: 0, column: null, key: 'experts:import.errors.empty', value: '' }] };
  if (dataRows.length > MAX_IMPORT_ROWS) return { rows: [], problems: [{ row: 0, column: null, key: 'experts:import.errors.tooManyRows', value: String(dataRows.length) }] };
  for (const { cells, row } of dataRows) {
    const cell = (c: ImportColumn) => {
      const i = columns.get(c);
      return i === undefined ? '' : (cells[i] ?? '').trim();
    };
    const problem = (column: ImportColumn, key: string) => problems.push({ row, column, key: `experts:import.errors.${key}`, value: cell(column).slice(0, 100) });
    const before = problems.length;

    const name = cell('name');
    if (!name) problem('name', 'nameRequired');
    else if (name.length > 100) problem('name', 'tooLong');

    const email = normaliseEmail(cell('email'));
    let existing: ExistingAccount | undefined;
    if (!email) problem('email', 'emailRequired');
    else if (email.length > MAX_ACCOUNT_EMAIL) problem('email', 'emailTooLong');
    else if (!lookups.validAddress(email)) problem('email', 'emailInvalid');
    else if (seen.has(email)) problem('email', 'emailDuplicate');
    else {
      seen.set(email, row);
      existing = lookups.usersByEmail.get(email);
      if (existing?.disabled) problem('email', 'accountDisabled');
    }

    const checked = checkCreditCode(cell('creditCode'));
    const inst = checked.problem ? undefined : lookups.institutionsByCode.get(checked.code);
    if (!cell('creditCode')) problem('creditCode', 'creditCodeRequired');
    else if (checked.problem) problem('creditCode', `creditCode.${checked.problem}`);
    else if (!inst) problem('creditCode', 'institutionUnknown');
    else if (existing && existing.institutionId !== null && existing.institutionId !== inst.id) problem('creditCode', 'otherInstitution');

    const title = cell('title');
    if (title.length > 100) problem('title', 'tooLong');

    const { codes, bad } = parseDisciplines(cell('disciplines'));
    if (bad.length) problem('disciplines', 'disciplineInvalid');
    else if (codes.length === 0) problem('disciplines', 'disciplinesRequired');
    else if (codes.length > MAX_DISCIPLINES) problem('disciplines', 'tooManyDisciplines');

    const keywords = parseKeywords(cell('keywords'));
    const kp = keywordProblem(keywords);
    if (kp) problem('keywords', keywordProblemKey(kp));

    const loadText = cell('maxLoad');
    const maxLoad = loadText === '' ? LOAD_RANGE.default : /^\d{1,3}$/.test(loadText) ? Number(loadText) : NaN;
    if (!(maxLoad >= LOAD_RANGE.min && maxLoad <= LOAD_RANGE.max)) problem('maxLoad', 'maxLoadInvalid');

    if (problems.length === before) {
      rows.push({ row, name, email, creditCode: checked.code, institutionId: inst!.id, title: title || null, disciplines: codes, keywords, maxLoad, existingUserId: existing?.id ?? null });
    }
  }
  return { rows: problems.length ? [] : rows, problems };
}
