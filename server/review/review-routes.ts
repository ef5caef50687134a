/** (stub, filled in by its area) */
import { Router } from 'express';
import type { AppContext } from '../platform/context.js';

export function reviewRouter(_ctx: AppContext): Router {
  void _ctx;
  return Router();
}
