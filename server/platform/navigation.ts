/** The header navigation for an actor: one entry per place their roles let them go. */
import { hasRole, type Actor } from './policy.js';

export interface NavItem {
  href: string;
  label: string; // i18n key
  current: boolean;
}

export function navigationFor(actor: Actor | null, currentPath: string): NavItem[] {
  const items: Array<[string, string, boolean]> = [
    ['/', 'common:nav.home', true],
    ['/calls', 'common:nav.calls', true],
    ['/proposals', 'common:nav.proposals', !!actor],
    ['/endorsements', 'common:nav.endorsements', hasRole(actor, 'institution_admin')],
    ['/screening', 'common:nav.screening', hasRole(actor, 'officer')],
    ['/experts', 'experts:nav.pool', hasRole(actor, 'officer') || hasRole(actor, 'admin')],
    ['/integrity', 'integrity:nav.title', hasRole(actor, 'officer') || hasRole(actor, 'admin')],
    ['/reviews', 'common:nav.reviews', hasRole(actor, 'expert')],
    ['/expert/profile', 'experts:nav.profile', hasRole(actor, 'expert')],
    ['/institutions', 'common:nav.institutions', !!actor],
    ['/admin/institution-requests', 'common:nav.institutionRequests', hasRole(actor, 'officer') && !hasRole(actor, 'admin')],
    ['/admin', 'common:nav.admin', hasRole(actor, 'admin')],
  ];
  return items
    .filter(([, , show]) => show)
    .map(([href, label]) => ({ href, label, current: href === '/' ? currentPath === '/' : currentPath.startsWith(href) }));
}
