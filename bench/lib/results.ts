/**
 * bench/results.json: one object, measurement name → { value, unit, …extra }. A run writes the names it
 * measured and keeps the others, so `npm run bench -- NAME` updates one line.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export type Unit = 'req/s' | 'ms' | 's' | 'ratio' | 'count';

export interface Target {
  /** The value must be at least `min` (or at most `max`). */
  min?: number;
  max?: number;
}

export interface Entry {
  /** null when the measurement could not be taken (`error` says why). */
  value: number | null;
  unit: Unit;
  target?: string;
  met?: boolean;
  note?: string;
  [extra: string]: unknown;
}

export function targetText(t: Target): string {
  return t.min !== undefined ? `>= ${t.min}` : `<= ${t.max}`;
}

export function meets(value: number, t: Target): boolean {
  return (t.min === undefined || value >= t.min) && (t.max === undefined || value <= t.max);
}

export function readResults(file: string): Record<string, Entry> {
  if (!existsSync(file)) return {};
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, Entry>) : {};
  } catch {
    return {};
  }
}

export function writeResults(file: string, fresh: Record<string, Entry>): Record<string, Entry> {
  const merged = { ...readResults(file), ...fresh };
  writeFileSync(file, JSON.stringify(merged, null, 2) + '\n');
  return merged;
}

const round = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toFixed(3));

export function table(entries: Record<string, Entry>): string {
  const rows = [['measurement', 'value', 'unit', 'target', '', 'note']];
  for (const [name, e] of Object.entries(entries)) {
    if (e.value === null) rows.push([name, '—', e.unit, e.target ?? '', 'FAILED', String(e.error ?? '')]);
    else rows.push([name, round(e.value), e.unit, e.target ?? '', e.met === undefined ? '' : e.met ? 'ok' : 'MISSED', e.note ?? '']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...r[i]!].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}
