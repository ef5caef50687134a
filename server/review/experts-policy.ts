/**
 * Who may use the expert pool pages, with the reason when not: officers of every province and admins manage the
 * shared pool (list, import, invite); experts maintain their own profile.
 */
import { can, definePolicy } from '../platform/policy.js';

const adminOrOfficer = can.role('admin', 'officer');

export const expertPolicy = {
  pool: definePolicy('officers of every province and admins (the expert pool is shared)', (a, req) => adminOrOfficer(a, req)),
  ownProfile: definePolicy('experts, for their own profile', (a, req) => can.role('expert')(a, req)),
};
