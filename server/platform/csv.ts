/**
 * RFC 4180 CSV reading, shared by the expert import (uploaded files) and the demo seed (the NSFC data file).
 * Pure: no Express, no Sequelize.
 */

/** More rows than the caller allows: the reading stops there instead of holding a huge upload in memory. */
export class TooManyCsvRows extends Error {}

/**
 * Rows of fields. Quoted fields (a quote at the start of a field) may hold commas, doubled quotes and line
 * breaks; CRLF, LF and CR end a row. `skipBlankLines` drops empty lines; `maxRows` stops with TooManyCsvRows.
 */
export function parseCsv(text: string, o: { skipBlankLines?: boolean; maxRows?: number } = {}): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') row.push(field), (field = '');
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (!o.skipBlankLines || row.length > 1 || row[0] !== '') rows.push(row);
      if (o.maxRows !== undefined && rows.length > o.maxRows) throw new TooManyCsvRows();
      (row = []), (field = '');
    } else field += ch;
  }
  if (field !== '' || row.length) rows.push([...row, field]);
  return rows;
}
