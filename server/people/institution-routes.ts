/** Institution registry pages (list, create, edit, requests for missing institutions). */
import { Router } from 'express';
import type { AppContext } from '../platform/context.js';

export function institutionRouter(_ctx: AppContext): Router {
  void _ctx;
  return Router();
}
