/**
 * How `npm start` starts the app: package.json's start script is `node [--flag…] dist/server/main.js`. The bench
 * and the tests that run the compiled app start it with the same Node flags, so they run it as it is served
 * (and the Node 24 run of the suite checks that every flag is one that Node accepts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const START_ENTRY = 'dist/server/main.js';

/** The start script's Node flags; throws when the script is not of that form. */
export function startFlags(root: string): string[] {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const start = pkg.scripts?.start ?? '';
  const m = /^node((?: --[\w-]+(?:=\S+)?)*) dist\/server\/main\.js$/.exec(start);
  if (!m) throw new Error(`package.json's start script is not "node [--flag…] ${START_ENTRY}": ${start}`);
  return m[1]!.split(' ').filter(Boolean);
}
