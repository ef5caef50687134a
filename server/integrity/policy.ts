/**
 * Who may see and change integrity sanctions, with the reason when not. The list is shared: every officer of
 * every province and every admin sees every sanction. Officers record sanctions (for one of their provinces);
 * only officers of the recording province correct or lift one.
 */
import { ALLOW, can, definePolicy, hasRole, refuse } from '../platform/policy.js';
import { idParam } from '../people/policy.js';
import { IntegritySanction } from './models.js';
import { editRefusal } from './service.js';

const officersAndAdmins = can.role('admin', 'officer');

export const integrityPolicy = {
  view: definePolicy('officers of every province and admins (the sanctions are shared)', (a, req) => officersAndAdmins(a, req)),
  create: definePolicy('officers (for one of their own provinces)', (a, req) => can.role('officer')(a, req)),
  edit: definePolicy("officers of the sanction's recording province", async (a) => {
    if (!a) return refuse('common:policy.signInRequired', 401);
    if (!hasRole(a, 'officer')) return refuse('common:policy.needsRole.officer');
    return ALLOW;
  }),
};

/** The sanction of the route, loaded for a policy or a handler; null when the id is malformed or unknown. */
export async function sanctionOf(req: Parameters<typeof idParam>[0]): Promise<IntegritySanction | null> {
  const id = idParam(req);
  return id ? IntegritySanction.findByPk(id) : null;
}

/** Edit and lift: officers, and then only of the recording province (404 for an unknown sanction). */
export const editSanction = definePolicy("officers of the sanction's recording province", async (a, req) => {
  const base = await integrityPolicy.edit(a, req);
  if (!base.ok) return base;
  const s = await sanctionOf(req);
  if (!s) return refuse('integrity:errors.notFound', 404);
  const why = editRefusal(a, s.provinceCode);
  return why ? refuse(why) : ALLOW;
});
