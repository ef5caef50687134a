/**
 * Export of a call's joint ranking, xlsx and csv, with the screening exports' helpers (exports.ts): every text
 * cell through `safeCell` (formula injection guard), numbers kept as numbers, CSV with a UTF-8 BOM. The ranking
 * only: no reviewer's name, no comment — those stay on the officers' pages.
 */
import type ExcelJS from 'exceljs';
import { tFor } from '../platform/i18n.js';
import { newSheet } from '../proposals/exports.js';
import { safeCell } from '../proposals/screening-rules.js';
import type { RankedProposal } from './results-rules.js';
import type { ProposalInfo } from './results-service.js';

const COLUMNS = ['rank', 'receipt', 'title', 'lead', 'provinces', 'reviews', 'complete', 'meanScore', 'meanZ', 'spread', 'disagreement', 'fund', 'fund_with_changes', 'reject'] as const;
const WIDE: Partial<Record<(typeof COLUMNS)[number], number>> = { title: 48, lead: 32, provinces: 24 };

const round = (x: number | null, digits: number) => (x === null ? '' : Math.round(x * 10 ** digits) / 10 ** digits);

export function buildResultsWorkbook(rows: Array<RankedProposal & { proposal: ProposalInfo }>, k: number, lang: string): ExcelJS.Workbook {
  const t = tFor(lang);
  const en = lang === 'en';
  const yes = String(t('reviews:results.export.yes'));
  const province = (code: string) => String(t(`common:provinces.${code}`, { defaultValue: code }));
  const { wb, ws } = newSheet(lang, String(t('reviews:results.export.sheet')), COLUMNS.map((c) => ({ key: c, header: String(t(`reviews:results.export.columns.${c}`)), width: WIDE[c] ?? 12 })));
  for (const r of rows) {
    const p = r.proposal;
    const text: Record<string, string> = {
      receipt: p.receiptNo,
      title: en && p.titleEn ? p.titleEn : p.title,
      lead: en && p.leadNameEn ? p.leadNameEn : p.leadName,
      provinces: p.provinces.map(province).join(en ? ', ' : '、'),
      reviews: `${r.reviews}/${k}`,
      complete: r.incomplete ? String(t('reviews:results.incomplete')) : yes,
      disagreement: r.disagreement ? yes : '',
    };
    const row: Record<string, string | number> = {};
    for (const [key, v] of Object.entries(text)) row[key] = safeCell(v);
    Object.assign(row, { rank: r.rank, meanScore: round(r.meanScore, 2), meanZ: round(r.meanZ, 3), spread: round(r.spread, 2), ...r.tally });
    ws.addRow(row);
  }
  return wb;
}
