/**
 * Asia/Shanghai wall time for forms. `<input type="datetime-local">` sends a wall-clock time without a zone
 * ("2026-12-01T17:00"); the platform reads every such value as Beijing time (UTC+8, no daylight saving since
 * 1991) and stores the instant. These helpers convert both ways without depending on the server's zone.
 */

/** Beijing time is UTC+8 all year round. */
export const SHANGHAI_OFFSET_MS = 8 * 3600_000;

/** The Asia/Shanghai calendar day of an instant as "YYYYMMDD" (receipt numbers, export file names). */
export function shanghaiDay(d: Date): string {
  return new Date(d.getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10).replace(/-/g, '');
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?$/;

/**
 * "YYYY-MM-DDTHH:mm" (seconds optional) read as Asia/Shanghai wall time → the instant, or null when the text is
 * not a real calendar date and time (2026-02-30T10:00, 24:00, empty…).
 */
export function parseShanghaiLocal(raw: string): Date | null {
  const m = LOCAL.exec(raw.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null;
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(wall);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null; // 31 April etc.
  return new Date(wall - SHANGHAI_OFFSET_MS);
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** An instant → the value for a datetime-local input in Asia/Shanghai ("YYYY-MM-DDTHH:mm", seconds only when not zero). */
export function toShanghaiLocal(d: Date | string | null | undefined): string {
  if (!d) return '';
  const date = d instanceof Date ? d : new Date(d);
  if (Number.isNaN(date.getTime())) return '';
  const w = new Date(date.getTime() + SHANGHAI_OFFSET_MS);
  const base = `${pad(w.getUTCFullYear(), 4)}-${pad(w.getUTCMonth() + 1)}-${pad(w.getUTCDate())}T${pad(w.getUTCHours())}:${pad(w.getUTCMinutes())}`;
  return w.getUTCSeconds() ? `${base}:${pad(w.getUTCSeconds())}` : base;
}

/** Whole days, hours and minutes from `now` until `until` (all zero when `until` is not in the future). */
export function timeLeft(until: Date, now: Date): { days: number; hours: number; minutes: number; totalMs: number } {
  const ms = Math.max(0, until.getTime() - now.getTime());
  const minutes = Math.floor(ms / 60_000);
  return { days: Math.floor(minutes / 1440), hours: Math.floor((minutes % 1440) / 60), minutes: minutes % 60, totalMs: ms };
}
