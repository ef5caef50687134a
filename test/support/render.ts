/** Render a view partial with the app's helpers, for tests of what a template shows. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { ROOT } from '../../server/config.js';
import { helpers } from '../../server/platform/views.js';

export function renderFlashForTest(flash: { kind: string; key: string; params?: Record<string, string> }, lang = 'zh-CN'): string {
  const hbs = Handlebars.create();
  for (const [name, fn] of Object.entries(helpers)) hbs.registerHelper(name, fn as Handlebars.HelperDelegate);
  hbs.registerPartial('flashes', readFileSync(path.join(ROOT, 'views', 'partials', 'flashes.hbs'), 'utf8'));
  return hbs.compile('{{> flashes}}')({ lang, flashes: [flash] });
}
