/**
 * Validated settings, read once from the environment. Nothing else in the app reads process.env.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** Project root: two levels above this file, whether it runs from server/ (tsx) or dist/server/. */
const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.basename(path.dirname(here)) === 'dist' ? path.resolve(here, '../..') : path.resolve(here, '..');

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  BASE_URL: z.string().url().optional(),
  DATABASE_URL: z.string().regex(/^(sqlite:|mysql:\/\/|mariadb:\/\/)/, 'DATABASE_URL must start with sqlite: or mysql://').default('sqlite:var/yrd.sqlite'),
  SMTP_URL: z.string().regex(/^smtps?:\/\//).optional(),
  MAIL_FROM: z.string().default('长三角联合攻关平台 <no-reply@yrd-platform.example>'),
  SESSION_SECRET: z.string().min(32, 'SESSION_SECRET must be at least 32 characters').optional(),
  UPLOAD_DIR: z.string().default('uploads'),
  WORKERS: z.coerce.number().int().min(1).max(64).default(1),
  TRUST_PROXY: z.string().default('false'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SEED_DEMO: z.enum(['true', 'false']).default('true'),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  HASH_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(1),
  OUTBOX_INTERVAL_MS: z.coerce.number().int().min(50).default(2000),
});

export type Config = ReturnType<typeof loadConfig>;

function trustProxy(v: string): boolean | number | string {
  if (v === 'true') return true;
  if (v === 'false' || v === '') return false;
  if (/^\d+$/.test(v)) return Number(v);
  return v; // an address list such as "loopback, 10.0.0.0/8"
}

/**
 * A stable secret when none is configured (the demo): generated once and kept in var/ (mode 600) so sessions
 * survive restarts. Deployments with several machines must set SESSION_SECRET.
 */
function defaultSecret(): string {
  const file = path.join(ROOT, 'var', 'session-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(path.dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    baseUrl: (e.BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, ''),
    databaseUrl: e.DATABASE_URL,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    sessionSecret: e.SESSION_SECRET ?? (e.NODE_ENV === 'test' ? 'test-secret-'.padEnd(40, 'x') : defaultSecret()),
    uploadDir: path.resolve(ROOT, e.UPLOAD_DIR),
    workers: e.WORKERS,
    trustProxy: trustProxy(e.TRUST_PROXY),
    logLevel: e.LOG_LEVEL,
    seedDemo: e.SEED_DEMO === 'true',
    dbPoolMax: e.DB_POOL_MAX,
    hashConcurrency: e.HASH_CONCURRENCY,
    outboxIntervalMs: e.OUTBOX_INTERVAL_MS,
  };
}
