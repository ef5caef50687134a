/**
 * Exports of the officers' screening list, xlsx and csv, both written with exceljs. Every text cell goes
 * through `safeCell` (formula injection guard); the CSV starts with a UTF-8 BOM so Excel reads Chinese
 * correctly. Only what the list shows is exported: nothing about reviewers or requested exclusions. `newSheet` and
 * `exportBuffer` serve the review results export too (review/results-export.ts).
 */
import ExcelJS from 'exceljs';
import { formatDateTime } from '../platform/views.js';
import { tFor } from '../platform/i18n.js';
import type { ScreeningRow, CallScope } from './screening-query.js';
import { safeCell } from './screening-rules.js';

export const EXPORT_ROW_LIMIT = 20_000;
export type ExportFormat = 'xlsx' | 'csv';

const COLUMNS = ['receipt', 'title', 'call', 'lead', 'leadType', 'leadProvince', 'provinces', 'partners', 'total', 'status', 'eligibility', 'submittedAt', 'reason'] as const;

/** A workbook with one sheet whose bold header row is the given columns (headers through the formula guard). */
export function newSheet(lang: string, sheet: string, columns: Array<{ key: string; header: string; width: number }>): { wb: ExcelJS.Workbook; ws: ExcelJS.Worksheet } {
  const wb = new ExcelJS.Workbook();
  wb.creator = String(tFor(lang)('common:app.shortName'));
  const ws = wb.addWorksheet(sheet);
  ws.columns = columns.map((c) => ({ ...c, header: safeCell(c.header) }));
  ws.getRow(1).font = { bold: true };
  return { wb, ws };
}

export function buildWorkbook(rows: ScreeningRow[], calls: CallScope[], lang: string): ExcelJS.Workbook {
  const t = tFor(lang);
  const en = lang === 'en';
  const callTitle = new Map(calls.map((c) => [c.id, en && c.titleEn ? c.titleEn : c.titleZh]));
  const province = (code: string | null) => (code ? String(t(`common:provinces.${code}`, { defaultValue: code })) : '');
  const { wb, ws } = newSheet(
    lang,
    String(t('screening:export.sheet')),
    COLUMNS.map((c) => ({ header: String(t(`screening:export.columns.${c}`)), key: c, width: c === 'title' ? 48 : c === 'eligibility' || c === 'reason' ? 36 : 16 })),
  );
  for (const r of rows) {
    const eligibility = r.failed.length
      ? String(t('screening:eligibility.failsList', { rules: r.failed.map((x) => t(`screening:ruleNames.${x}`)).join(en ? '; ' : '；') }))
      : String(t('screening:eligibility.passes'));
    const text: Record<string, string> = {
      receipt: r.receiptNo,
      title: r.title,
      call: callTitle.get(r.callId) ?? '',
      lead: en && r.leadNameEn ? r.leadNameEn : r.leadName,
      leadType: r.leadType ? String(t(`people:types.${r.leadType}`)) : '',
      leadProvince: province(r.leadProvince),
      provinces: r.provinces.map(province).join(en ? ', ' : '、'),
      status: String(t(`screening:status.${r.status}`)),
      eligibility,
      submittedAt: formatDateTime(r.submittedAt, lang),
      reason: r.screeningReason ?? '',
    };
    const row: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(text)) row[k] = safeCell(v);
    row.partners = r.partnerCount;
    // Integer fen shown in 元: the spreadsheet keeps a number (to sum), displayed to the cent by the column format.
    row.total = r.totalFen / 100;
    ws.addRow(row);
  }
  ws.getColumn('total').numFmt = '#,##0.00';
  return wb;
}

export async function exportBuffer(wb: ExcelJS.Workbook, format: ExportFormat): Promise<Buffer> {
  if (format === 'xlsx') return Buffer.from(await wb.xlsx.writeBuffer());
  return Buffer.from(await wb.csv.writeBuffer({ formatterOptions: { writeBOM: true, rowDelimiter: '\r\n' } } as never));
}

export const EXPORT_TYPES: Record<ExportFormat, string> = {
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  csv: 'text/csv; charset=utf-8',
};
