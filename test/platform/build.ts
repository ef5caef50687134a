/** Compile the app once per test run (what `npm run build` does), for tests of the compiled entry points. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../../server/config.js';

let built: Promise<void> | null = null;

export function ensureBuilt(): Promise<void> {
  built ??= promisify(execFile)(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, timeout: 120_000 }).then(
    () => undefined,
    (e: { stdout?: string; message: string }) => {
      built = null;
      throw new Error(`npm run build failed: ${e.stdout?.slice(0, 2000) ?? e.message}`);
    },
  );
  return built;
}
