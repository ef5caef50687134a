/**
 * Languages: zh-CN first, English second. Strings live in locales/<lang>/<namespace>.json, one namespace per
 * area (common, people, mail, …). The request's language: the signed-in user's choice, else the `lang`
 * cookie, else zh-CN.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import i18next, { type i18n, type TFunction } from 'i18next';
import { ROOT } from '../config.js';

export const LANGS = ['zh-CN', 'en'] as const;
export type Lang = (typeof LANGS)[number];
export const DEFAULT_LANG: Lang = 'zh-CN';

/**
 * Order for people's and institutions' names: Chinese collation (pinyin), whatever the server's locale. A bare
 * `localeCompare` follows the process's locale (LANG), and under C or en it orders Chinese names by code point.
 */
export const byChineseName = new Intl.Collator('zh-CN').compare;

export function isLang(v: unknown): v is Lang {
  return typeof v === 'string' && (LANGS as readonly string[]).includes(v);
}

function loadResources() {
  const resources: Record<string, Record<string, unknown>> = {};
  const namespaces = new Set<string>();
  for (const lng of LANGS) {
    const dir = path.join(ROOT, 'locales', lng);
    resources[lng] = {};
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
      const ns = f.replace(/\.json$/, '');
      namespaces.add(ns);
      resources[lng]![ns] = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
    }
  }
  return { resources, namespaces: [...namespaces] };
}

let instance: i18n | null = null;

export function i18nInstance(): i18n {
  if (instance) return instance;
  const { resources, namespaces } = loadResources();
  const inst = i18next.createInstance();
  void inst.init({
    initAsync: false,
    resources: resources as never,
    ns: namespaces,
    defaultNS: 'common',
    fallbackLng: DEFAULT_LANG,
    supportedLngs: [...LANGS],
    interpolation: { escapeValue: false }, // Handlebars escapes on output
    returnNull: false,
    showSupportNotice: false,
  });
  instance = inst;
  return inst;
}

const fixed = new Map<string, TFunction>();

/** A translate function for one language (cached). */
export function tFor(lang: string): TFunction {
  const l = isLang(lang) ? lang : DEFAULT_LANG;
  let t = fixed.get(l);
  if (!t) fixed.set(l, (t = i18nInstance().getFixedT(l)));
  return t;
}

/** True when `key` (ns:path) exists in the default language: used by tests to catch missing strings. */
export function hasKey(key: string, lang: Lang = DEFAULT_LANG): boolean {
  return i18nInstance().exists(key, { lng: lang });
}
