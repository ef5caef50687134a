/** Admins browse and filter the audit trail. */
import { Router } from 'express';
import type { AppContext } from './context.js';

export function auditRouter(_ctx: AppContext): Router {
  void _ctx;
  return Router();
}
