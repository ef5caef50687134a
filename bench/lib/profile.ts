/** Summarise a V8 .cpuprofile of the app: where the samples fall, by function (self) and by area (inclusive). */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** node_modules package, project file, or node internals. */
function areaOf(url: string, fn: string): string {
  if (SPECIAL.has(fn)) return fn;
  if (!url) return '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[1];
  const own = /\/dist\/(.+?)\.js$/.exec(url);
  return own ? own[1]! : url;
}

export function summarise(file: string, top = 25): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<string, number>();
  const selfArea = new Map<string, number>();
  const owner = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  let busy = 0;
  for (const id of p.samples) {
    const leaf = byId.get(id)!;
    if (leaf.callFrame.functionName === '(idle)') continue;
    busy++;
    const f = leaf.callFrame;
    const area = areaOf(f.url, f.functionName);
    bump(self, `${f.functionName || '(anonymous)'}  ${area}${f.url ? ':' + (f.lineNumber + 1) : ''}`);
    bump(selfArea, area);
    const areas = new Set<string>();
    let firstOwner: string | null = null;
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const cf = byId.get(n)!.callFrame;
      if (cf.functionName === '(root)') continue;
      const a = areaOf(cf.url, cf.functionName);
      areas.add(a);
      if (!firstOwner && !a.startsWith('node:') && a !== '(native)') firstOwner = a;
    }
    bump(owner, firstOwner ?? area);
    for (const a of areas) bump(inclusive, a);
  }
  const total = p.samples.length;
  const pct = (n: number) => ((100 * n) / Math.max(1, busy)).toFixed(1).padStart(5) + '%';
  const list = (m: Map<string, number>, n = top) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, c]) => `  ${pct(c)}  ${k}`);
  return [
    `${file}: ${total} samples, ${busy} busy (${((100 * busy) / Math.max(1, total)).toFixed(0)}% of the main thread's time); percentages are of busy samples`,
    'Self time by function:',
    ...list(self),
    'Self time by area, node internals and native code charged to the nearest package or project file that called them:',
    ...list(owner, 20),
    'Self time by area:',
    ...list(selfArea, 15),
    'Inclusive time by area (a sample counts once for every area on its stack; middleware that calls next() includes what follows it):',
    ...list(inclusive, 20),
  ].join('\n');
}
