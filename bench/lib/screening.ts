/**
 * The officer's screening list (形式审查): GET /screening, first page (50 rows), signed in as officer.sh, whose
 * province holds ~170 of the demo proposals. screening_list_ratio compares it with trivial_rps of the same run.
 */
import type { Load } from './load.js';
import type { BenchContext, Measurement } from './measurements.js';
import type { PhaseCpu } from './threads.js';

export const SCREENING_PATH = '/screening';
export const SCREENING_ROWS = 50;

type Probed = Load & { app: PhaseCpu };

/** The shared probes of measurements.ts (passed in, so this file does not import it at run time). */
export interface SharedProbes {
  trivial(ctx: BenchContext): Promise<Probed>;
  officerCookie(ctx: BenchContext): Promise<string>;
  measurePath(ctx: BenchContext, what: string, path: string, o?: { cookie?: string; verify?: (b: string) => boolean }): Promise<Probed>;
  officerEmail: string;
}

const rowsOf = (body: string) => (body.match(/<tr data-proposal-id="/g) ?? []).length;

export function screeningMeasurements(h: SharedProbes): Measurement[] {
  const screening = (ctx: BenchContext) =>
    ctx.probe('screening-list', async () => {
      const cookie = await h.officerCookie(ctx);
      const first = await fetch(`${ctx.base}${SCREENING_PATH}`, { redirect: 'manual', headers: { Cookie: cookie } });
      const body = await first.text();
      if (first.status !== 200 || rowsOf(body) !== SCREENING_ROWS) throw new Error(`GET ${SCREENING_PATH} as ${h.officerEmail}: status ${first.status}, ${rowsOf(body)} rows (want ${SCREENING_ROWS})`);
      return h.measurePath(ctx, `screening list GET ${SCREENING_PATH} as ${h.officerEmail}`, SCREENING_PATH, { cookie, verify: (b) => rowsOf(b) === SCREENING_ROWS });
    });
  const r1 = (v: number) => Math.round(v * 10) / 10;
  return [
    {
      name: 'screening_list_rps',
      unit: 'req/s',
      async run(ctx) {
        const s = await screening(ctx);
        return { value: r1(s.rps), path: SCREENING_PATH, user: h.officerEmail, rows: SCREENING_ROWS, p50_ms: s.p50_ms, p99_ms: s.p99_ms, app_cpu: s.app.cpu, app_cpu_wait: s.app.waiting, note: 'officer screening list, first page, signed in' };
      },
    },
    {
      name: 'screening_list_ratio',
      unit: 'ratio',
      target: { min: 0.1 },
      async run(ctx) {
        const t = await h.trivial(ctx);
        const s = await screening(ctx);
        return { value: Math.round((s.rps / t.rps) * 1000) / 1000, screening_list_rps: r1(s.rps), trivial_rps: r1(t.rps), note: 'screening list ÷ trivial, same run' };
      },
    },
  ];
}
