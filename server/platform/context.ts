/** What every request handler may need, built once at start-up and passed to the area routers. */
import type { Sequelize } from 'sequelize';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Request } from 'express';
import type { AuditContext } from './audit.js';
import type { Actor } from './policy.js';

export interface AppContext {
  config: Config;
  sequelize: Sequelize;
  logger: Logger;
  /** Wake the outbox worker after a commit that queued mail. */
  kickOutbox: () => void;
}

export function actorOf(req: Request): Actor | null {
  return (req.user as Actor | undefined) ?? null;
}

export function auditContext(req: Request): AuditContext {
  return { actorId: actorOf(req)?.id ?? null, ip: req.ip ?? null, requestId: String((req as Request & { id?: unknown }).id ?? '') || null };
}
