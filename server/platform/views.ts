/**
 * Handlebars views (express-handlebars): layouts, partials and the helpers every view may use.
 * Templates never receive req.query, req.body or a model instance: routes build explicit view models.
 */
import path from 'node:path';
import type { Express, Response } from 'express';
import { ExpressHandlebars } from 'express-handlebars';
import Handlebars, { type compile, type HelperOptions } from 'handlebars';
import { ROOT } from '../config.js';
import { DEFAULT_LANG, tFor } from './i18n.js';

export const TIME_ZONE = 'Asia/Shanghai';

/** Per language and style: the formatter, and the instants it formatted (by epoch ms). */
const dateFormats = new Map<string, { format: Intl.DateTimeFormat; seen: Map<number, string> }>();
/** Formatted instants are remembered (Intl formatting costs ~10 µs; a list page shows the same dates on every view). */
export function formatDateTime(d: Date | string | null | undefined, lang: string, withTime = true): string {
  if (!d) return '';
  const date = d instanceof Date ? d : new Date(d);
  const ms = date.getTime();
  if (Number.isNaN(ms)) return '';
  const key = withTime ? lang : `${lang}|date`;
  let f = dateFormats.get(key);
  if (!f) {
    const format = new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'zh-CN', {
      timeZone: TIME_ZONE,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      ...(withTime ? { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false } : {}),
    });
    dateFormats.set(key, (f = { format, seen: new Map() }));
  }
  let s = f.seen.get(ms);
  if (s === undefined) {
    s = f.format.format(date);
    if (f.seen.size >= MEMO_LIMIT) f.seen.clear();
    f.seen.set(ms, s);
  }
  return s;
}

/**
 * Translations remembered per language (and per parameter values): i18next resolves the language hierarchy
 * and the key on every call (~10 µs, Intl.getCanonicalLocales included; 50+ µs with interpolation) and a page
 * makes dozens, mostly with the same values (a list's count and pager). The resources never change while the
 * process runs, so the result depends only on the key; the memo is bounded in case keys or values come from data.
 * Only plain (string, number, boolean) parameters are remembered; anything else is translated every time.
 */
const MEMO_LIMIT = 20_000;
/** Per language, by key (a template's key is a literal string, so its hash is computed once), or key + values. */
const memo = new Map<string, Map<string, string>>();
let memoSize = 0;
const plainValue = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
export function translate(lang: string, key: string, params?: Record<string, unknown>): string {
  const hasParams = !!params && Object.keys(params).length > 0;
  let k = key;
  if (hasParams) {
    if (!Object.values(params).every(plainValue)) return tFor(lang)(key, { ...params }) as string;
    k += `\u0000${JSON.stringify(params)}`;
  }
  let byKey = memo.get(lang);
  if (!byKey) memo.set(lang, (byKey = new Map()));
  let s = byKey.get(k);
  if (s === undefined) {
    s = (hasParams ? tFor(lang)(key, { ...params }) : tFor(lang)(key)) as string;
    if (memoSize >= MEMO_LIMIT) (memo.clear(), memo.set(lang, (byKey = new Map())), (memoSize = 0));
    byKey.set(k, s);
    memoSize++;
  }
  return s;
}

function langOf(options: HelperOptions): string {
  return (options?.data?.root?.lang as string | undefined) ?? DEFAULT_LANG;
}

export const helpers = {
  /** {{t "ns:key" name=value}} — the translation in the page's language. */
  t(key: unknown, options: HelperOptions) {
    const hash = options?.hash as Record<string, unknown> | undefined;
    if (!hash || Object.keys(hash).length === 0) return translate(langOf(options), String(key));
    // `params=obj` passes a whole object of values (flash messages carry theirs); other hash entries add to it.
    const { params, ...rest } = hash as { params?: Record<string, unknown> };
    return translate(langOf(options), String(key), params && typeof params === 'object' ? { ...params, ...rest } : rest);
  },
  /** {{tk kindKey "people:types"}} — translate a value under a key prefix (enum labels). */
  tk(value: unknown, prefix: unknown, options: HelperOptions) {
    return translate(langOf(options), `${String(prefix)}.${String(value)}`);
  },
  dateTime(d: Date | string | null, options: HelperOptions) {
    return formatDateTime(d, langOf(options));
  },
  date(d: Date | string | null, options: HelperOptions) {
    return formatDateTime(d, langOf(options), false);
  },
  eq: (a: unknown, b: unknown) => a === b,
  concat: (...args: unknown[]) => args.slice(0, -1).map(String).join(''),
  or: (...args: unknown[]) => args.slice(0, -1).some(Boolean),
  and: (...args: unknown[]) => args.slice(0, -1).every(Boolean),
  not: (a: unknown) => !a,
  json: (v: unknown) => JSON.stringify(v),
  /** Pick the zh or en variant of a bilingual value: {{bi nameZh nameEn}}. */
  bi(zh: unknown, en: unknown, options: HelperOptions) {
    return langOf(options) === 'en' && en ? String(en) : String(zh ?? '');
  },
};

/**
 * Templates may call only the helpers above (and Handlebars' own): a plain `{{name}}` then compiles to a
 * property read instead of a helper look-up first (~15 % of a 50-row list's render), and a misspelt helper
 * fails when the template is compiled instead of printing nothing.
 */
export const COMPILER_OPTIONS = {
  knownHelpers: Object.fromEntries(Object.keys(helpers).map((name) => [name, true])),
  knownHelpersOnly: true,
} satisfies Parameters<typeof compile>[1];

/**
 * The Handlebars the views compile with: Handlebars' own, except for how a template reads a property of its
 * context. Handlebars compiles every `{{title}}` or `{{pager.count}}` to `lookupProperty(obj, name)`, which checks
 * on each read that the property is the object's own or an allowed inherited one: a tenth of a list page's render.
 * The check is there so that a template cannot reach `constructor`, `__proto__` or another prototype member.
 * Names are fixed when a template is compiled (templates come from views/, never from users), so here a name
 * that no object or function inherits compiles to a plain read, and every other name (`constructor`,
 * `__proto__`, `toString`, …) still goes through the check. Views receive plain objects (never model instances,
 * whose getters live on a prototype), so both reads give the same value. Helpers, partials and @data are looked up
 * as before. `nameLookup` is the compiler's documented extension point; the global Handlebars is left as it is.
 */
export const viewHandlebars = Handlebars.create();
{
  type Compiler = { nameLookup(parent: string, name: unknown, type: string): unknown };
  const env = viewHandlebars as unknown as { JavaScriptCompiler: { new (): Compiler; prototype: Compiler } };
  const Base = env.JavaScriptCompiler;
  const inherited = (name: string) => name in Object.prototype || name in Function.prototype;
  class PlainReads extends Base {
    override nameLookup(parent: string, name: unknown, type: string) {
      if (type === 'context' && typeof name === 'string' && !inherited(name)) return [parent, '[', JSON.stringify(name), ']'];
      return super.nameLookup(parent, name, type);
    }
  }
  (PlainReads.prototype as unknown as { compiler: unknown }).compiler = PlainReads;
  env.JavaScriptCompiler = PlainReads;
}

type Partials = ReturnType<ExpressHandlebars['getPartials']>;

/**
 * A template's source without the spaces and tabs that begin its lines: the screening list loses 4,500 of its
 * 34,000 characters (an eighth less to build, encode and send) and looks the same, since between elements HTML
 * reads any run of white space, newline included, as one space. Where white space is shown as it is
 * (`<pre>`, `<textarea>`, `.prewrap`), every template opens and closes the element on one line (a test checks).
 */
export function withoutIndentation(source: string): string {
  return source.replace(/\n[ \t]+/g, '\n');
}

/**
 * A template compiled as every view is: in the views' Handlebars, with the known helpers only, without its
 * indentation. For templates a route passes itself (a page's own partials); express-handlebars compiles the rest.
 */
export function compileView(source: string): Handlebars.TemplateDelegate {
  return viewHandlebars.compile(withoutIndentation(source), COMPILER_OPTIONS);
}

/**
 * express-handlebars gathers every partial anew for each render (a directory listing and a promise per file,
 * ~75 µs a page). With the view cache on, the partials cannot change while the process runs, so the set is
 * gathered once; each render still merges it into its own object.
 */
export class CachedPartialsHandlebars extends ExpressHandlebars {
  private partials: Partials | null = null;

  /** Templates compile without their indentation (see `withoutIndentation`). */
  protected override _compileTemplate(template: string, options?: Parameters<ExpressHandlebars['_compileTemplate']>[1]) {
    return super._compileTemplate(withoutIndentation(template), options);
  }

  override getPartials(options: Parameters<ExpressHandlebars['getPartials']>[0] = {}): Partials {
    if (!options.cache) return super.getPartials(options);
    if (!this.partials) {
      this.partials = super.getPartials(options);
      this.partials.catch(() => (this.partials = null));
    }
    return this.partials;
  }
}

type Template = (context: unknown, options: { helpers: unknown; partials: unknown }) => string;
type RenderOptions = { partials?: Record<string, unknown>; helpers?: Record<string, unknown>; data?: Record<string, unknown>; layout?: unknown };
type Engine = (viewPath: string, options: RenderOptions, callback: (e: unknown, html?: string) => void) => void;

/**
 * The view engine with the view cache on: a view whose template, layout and partials are compiled is rendered
 * synchronously, straight through Handlebars. express-handlebars' own path (kept for the first render of each
 * view, and with the cache off) awaits the cached templates again and copies the helpers, the partials and the
 * whole view model into fresh objects for every page: 5 % of the screening list's main thread. Both paths give
 * the same page: the layout's context is the view's with `body` added, and a page's own partials are added to
 * the shared ones; a page with its own layout, helpers or @data goes the library's way, and no template reads
 * @exphbs. Sources are trimmed when compiled, so the output is not trimmed again (each trim copied the page).
 */
export function syncWhenCompiled(hbs: CachedPartialsHandlebars): Engine {
  const layoutPath = path.resolve(hbs.layoutsDir, hbs.defaultLayout + hbs.extname);
  const compiled = new Map<string, Template>();
  let partials: unknown = null;
  const keep = (file: string) => hbs.getTemplate(file, { cache: true }).then((t) => void compiled.set(file, t as unknown as Template));
  return (viewPath, options, callback) => {
    if (options.helpers || options.data || 'layout' in options) return void hbs.engine(viewPath, options, callback);
    const view = compiled.get(viewPath);
    const layout = compiled.get(layoutPath);
    if (!view || !layout || !partials) {
      Promise.all([keep(viewPath), keep(layoutPath), hbs.getPartials({ cache: true }).then((p) => void (partials = p))]).catch(() => undefined);
      return void hbs.engine(viewPath, options, callback);
    }
    let html: string;
    try {
      // A page may bring partials of its own (the proposal pages do), as express-handlebars allows.
      const runtime = { helpers: hbs.helpers, partials: options.partials ? { ...partials, ...options.partials } : partials };
      html = layout({ ...options, body: view(options, runtime) }, runtime);
    } catch (e) {
      return callback(e);
    }
    callback(null, html);
  };
}

/**
 * A page's bytes in one pass: a buffer of the largest size the page can take (3 UTF-8 bytes for each UTF-16 unit),
 * the part written. Node 20's `Buffer.from` measures the UTF-8 length in one pass and writes in another: 55 µs
 * for the screening list, against 30 µs here.
 */
export function utf8(text: string): Buffer {
  const bytes = Buffer.allocUnsafe(text.length * 3);
  return bytes.subarray(0, bytes.write(text, 'utf8'));
}

/**
 * `res.render` without a callback of its own sends the page as `utf8` gives it, with the type Express would set
 * for the string (HTML, UTF-8). A render with a callback is left to it.
 */
function sendPagesAsBytes(app: Express): void {
  type Done = (e: Error | null, html: string) => void;
  const render = app.response.render as (this: Response, view: string, ...rest: unknown[]) => void;
  app.response.render = function (this: Response, view: string, ...rest: unknown[]) {
    if (rest.some((arg) => typeof arg === 'function')) return render.call(this, view, ...rest);
    render.call(this, view, rest[0], ((e, html) => {
      if (e) return this.req.next!(e);
      this.set('Content-Type', this.get('Content-Type') ?? 'html');
      this.send(utf8(html));
    }) satisfies Done);
  } as Response['render'];
}

export function setupViews(app: Express, cache: boolean): void {
  const hbs = new CachedPartialsHandlebars({
    handlebars: viewHandlebars,
    extname: '.hbs',
    defaultLayout: 'main',
    layoutsDir: path.join(ROOT, 'views', 'layouts'),
    partialsDir: path.join(ROOT, 'views', 'partials'),
    helpers,
    compilerOptions: COMPILER_OPTIONS,
  });
  app.engine('.hbs', cache ? syncWhenCompiled(hbs) : hbs.engine);
  app.set('view engine', '.hbs');
  app.set('views', path.join(ROOT, 'views'));
  app.set('view cache', cache);
  sendPagesAsBytes(app);
}
