/**
 * Reading an expert import file into a table of strings: xlsx (recognised from its bytes, read with exceljs,
 * first worksheet) or CSV (RFC 4180, UTF-8 with or without BOM, or GB18030 as saved by Chinese Excel).
 * Anything else is refused. Sizes are bounded before and while reading.
 */
import { readFile } from 'node:fs/promises';
import ExcelJS from 'exceljs';
import { parseCsv as csvRows, TooManyCsvRows } from '../platform/csv.js';
import { MAX_IMPORT_ROWS } from './experts-rules.js';

export const MAX_IMPORT_BYTES = 1024 * 1024;
const MAX_COLUMNS = 30;
const MAX_CELL = 1000;

export class UnreadableFile extends Error {
  constructor(public readonly key: string) {
    super(key);
  }
}

/** Text of a CSV file: UTF-8 (BOM stripped) when it decodes as such, else GB18030. */
export function decodeText(bytes: Buffer): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = new TextDecoder('gb18030').decode(bytes);
  }
  return text.replace(/^\uFEFF/, '');
}

/** The CSV reader (platform/csv.ts), stopping past the import's row limit. */
export function parseCsv(text: string): string[][] {
  try {
    return csvRows(text, { maxRows: MAX_IMPORT_ROWS + 100 });
  } catch (e) {
    if (e instanceof TooManyCsvRows) throw new UnreadableFile('experts:import.errors.tooManyRows');
    throw e;
  }
}

function bounded(table: string[][]): string[][] {
  if (table.length > MAX_IMPORT_ROWS + 100) throw new UnreadableFile('experts:import.errors.tooManyRows');
  if (table.some((r) => r.length > MAX_COLUMNS)) throw new UnreadableFile('experts:import.errors.tooManyColumns');
  return table.map((r) => r.map((c) => c.slice(0, MAX_CELL)));
}

async function readXlsx(bytes: Buffer): Promise<string[][]> {
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.load(bytes as unknown as ArrayBuffer);
  } catch {
    throw new UnreadableFile('experts:import.errors.unreadable');
  }
  const ws = wb.worksheets[0];
  if (!ws) throw new UnreadableFile('experts:import.errors.empty');
  if (ws.rowCount > MAX_IMPORT_ROWS + 100) throw new UnreadableFile('experts:import.errors.tooManyRows');
  if (ws.columnCount > MAX_COLUMNS) throw new UnreadableFile('experts:import.errors.tooManyColumns');
  const table: string[][] = [];
  for (let r = 1; r <= ws.rowCount; r++) {
    const row = ws.getRow(r);
    const cells: string[] = [];
    for (let c = 1; c <= ws.columnCount; c++) {
      const cell = row.getCell(c);
      let text = '';
      try {
        text = cell.value === null || cell.value === undefined ? '' : String(cell.text ?? '');
      } catch {
        text = '';
      }
      cells.push(text);
    }
    table.push(cells);
  }
  return table;
}

/**
 * The table in an uploaded file. `sniffedExt` is what file-type read from the bytes (undefined for text).
 * Refuses binary files that are not xlsx, and text files not named .csv.
 */
export async function readImportTable(path: string, sniffedExt: string | undefined, originalName: string): Promise<string[][]> {
  const bytes = await readFile(path);
  if (bytes.length > MAX_IMPORT_BYTES) throw new UnreadableFile('experts:import.errors.tooLarge');
  if (sniffedExt === 'xlsx') return bounded(await readXlsx(bytes));
  if (sniffedExt !== undefined || !/\.csv$/i.test(originalName) || bytes.includes(0)) throw new UnreadableFile('experts:import.errors.fileType');
  return bounded(parseCsv(decodeText(bytes)));
}
