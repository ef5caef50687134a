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
    ['/institutions', 'common:nav.institutions', !!actor],
    ['/admin', 'common:nav.admin', hasRole(actor, 'admin')],
  ];
  return items
    .filter(([, , show]) => show)
    .map(([href, label]) => ({ href, label, current: href === '/' ? currentPath === '/' : currentPath.startsWith(href) }));
}
