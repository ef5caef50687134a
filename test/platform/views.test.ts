import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Handlebars from 'handlebars';
import { ROOT } from '../../server/config.js';
import fc from 'fast-check';
import { CachedPartialsHandlebars, COMPILER_OPTIONS, helpers, syncWhenCompiled, compileView, utf8, viewHandlebars, withoutIndentation } from '../../server/platform/views.js';
import { newAgent } from '../support/agent.js';

/** Every template under `dir`. */
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.hbs') ? [path.join(dir, e.name)] : []));

describe('view engine: partials', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'yrd-views-'));
    mkdirSync(path.join(dir, 'partials'));
    writeFileSync(path.join(dir, 'page.hbs'), '<p>{{> greeting}}</p>{{#if more}}{{> extra}}{{/if}}');
    writeFileSync(path.join(dir, 'partials', 'greeting.hbs'), '你好 {{name}}');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const render = (hbs: CachedPartialsHandlebars, cache: boolean, more = false) =>
    hbs.renderView(path.join(dir, 'page.hbs'), { settings: { views: dir }, cache, layout: false, name: '<甲>', more } as never) as Promise<string>;

  it('with the view cache on, gathers the partials once and renders them escaped', async () => {
    const hbs = new CachedPartialsHandlebars({ extname: '.hbs', partialsDir: path.join(dir, 'partials') });
    expect(await render(hbs, true)).to.equal('<p>你好 &lt;甲&gt;</p>');
    expect(hbs.getPartials({ cache: true })).to.equal(hbs.getPartials({ cache: true }));
    expect(await render(hbs, true)).to.equal('<p>你好 &lt;甲&gt;</p>');
  });

  it('with the view cache off (development), a partial added or edited between renders is used', async () => {
    const hbs = new CachedPartialsHandlebars({ extname: '.hbs', partialsDir: path.join(dir, 'partials') });
    expect(await render(hbs, false)).to.equal('<p>你好 &lt;甲&gt;</p>');
    writeFileSync(path.join(dir, 'partials', 'greeting.hbs'), '您好 {{name}}');
    writeFileSync(path.join(dir, 'partials', 'extra.hbs'), '!');
    expect(await render(hbs, false, true)).to.equal('<p>您好 &lt;甲&gt;</p>!');
  });
});

describe('view engine: known helpers only', () => {
  it('every view, layout and partial compiles with the production options', () => {
    const all = files(path.join(ROOT, 'views'));
    expect(all.length).to.be.greaterThan(50);
    for (const file of all) expect(() => Handlebars.precompile(readFileSync(file, 'utf8'), COMPILER_OPTIONS), path.relative(ROOT, file)).to.not.throw();
  });

  it('a template calling a helper that does not exist fails to compile, and a plain value still prints escaped', () => {
    expect(() => Handlebars.precompile('{{tt "common:app.name"}}', COMPILER_OPTIONS)).to.throw(/unknown helper tt/);
    const tpl = Handlebars.compile('{{t "common:form.search"}} {{title}}', COMPILER_OPTIONS);
    expect(tpl({ title: '<b>', lang: 'zh-CN' }, { helpers })).to.equal('搜索 &lt;b&gt;');
  });
});

describe('view engine: property reads', () => {
  // Every name a template may read, and the names the prototype check exists for.
  const SOURCE = [
    '{{title}}|{{pager.count}}|{{rows.length}}|{{name}}|{{#each rows}}<{{label}}>{{/each}}|{{#with pager}}{{count}}{{/with}}',
    '{{constructor}}|{{constructor.name}}|{{__proto__}}|{{__proto__.polluted}}|{{toString}}|{{valueOf}}|{{hasOwnProperty}}|{{__defineGetter__}}',
    '{{pager.constructor}}|{{title.constructor.name}}|{{rows.constructor.prototype}}|{{call}}|{{apply}}|{{bind}}|{{missing.deeper}}',
  ].join('|');
  // Handlebars warns once per denied name and process; this forgets which it warned about (untyped API).
  const resetLogged = () => (Handlebars as unknown as { resetLoggedPropertyAccesses(): void }).resetLoggedPropertyAccesses();
  const context = { title: '<b>', pager: { count: 3 }, rows: [{ label: 'a&b' }, { label: null }], name: '甲' };

  it('render every name as stock Handlebars does, and reach nothing on a prototype', () => {
    // Handlebars says on the console which reads it denied; both renders deny the same ones.
    const denied: string[] = [];
    const log = console.error;
    console.error = (...args: unknown[]) => void denied.push(args.join(' '));
    let ours: string, stock: string;
    try {
      resetLogged();
      ours = viewHandlebars.compile(SOURCE, COMPILER_OPTIONS)(context, { helpers });
      const fromOurs = denied.splice(0);
      resetLogged();
      stock = Handlebars.compile(SOURCE, COMPILER_OPTIONS)(context, { helpers });
      expect(fromOurs).to.deep.equal(denied).and.to.have.length.greaterThan(0);
    } finally {
      console.error = log;
    }
    expect(ours).to.equal(stock);
    expect(ours).to.equal('&lt;b&gt;|3|2|甲|<a&amp;b><>|3' + '|'.repeat(15));
  });

  it('compile a name no object inherits to a plain read, and keep the check for every inherited one', () => {
    const code = viewHandlebars.precompile('{{title}}{{pager.count}}{{constructor}}{{toString}}{{name}}', COMPILER_OPTIONS);
    expect(code).to.include('["title"]').and.include('["count"]');
    expect(code).to.not.match(/lookupProperty\(\w+,"(title|count)"\)/);
    for (const name of ['constructor', 'toString', 'name']) expect(code).to.match(new RegExp(`lookupProperty\\(\\w+,"${name}"\\)`));
    // The global Handlebars is not changed.
    expect(Handlebars.precompile('{{title}}', COMPILER_OPTIONS)).to.match(/lookupProperty\(\w+,"title"\)/);
  });
});

describe('view engine: the synchronous path once a view is compiled', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'yrd-views-'));
    mkdirSync(path.join(dir, 'partials'));
    mkdirSync(path.join(dir, 'layouts'));
    writeFileSync(path.join(dir, 'layouts', 'main.hbs'), '<main lang="{{lang}}">{{{body}}}</main>');
    writeFileSync(path.join(dir, 'page.hbs'), '<h1>{{t "common:form.search"}}</h1>{{> greeting}}{{#each rows}}<i>{{this}}</i>{{/each}}{{#if own}}{{> mine}}{{/if}}');
    writeFileSync(path.join(dir, 'broken.hbs'), '{{#each rows}}{{> missing}}{{/each}}');
    writeFileSync(path.join(dir, 'partials', 'greeting.hbs'), '你好 {{name}}');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const engineFor = () => {
    const hbs = new CachedPartialsHandlebars({ extname: '.hbs', defaultLayout: 'main', layoutsDir: path.join(dir, 'layouts'), partialsDir: path.join(dir, 'partials'), helpers, compilerOptions: COMPILER_OPTIONS });
    return syncWhenCompiled(hbs);
  };
  /** Render through the engine as Express calls it; `sync` tells whether the callback came before the call returned. */
  const render = (engine: ReturnType<typeof engineFor>, file: string, locals: Record<string, unknown>) =>
    new Promise<{ html: string; sync: boolean }>((resolve, reject) => {
      let returned = false;
      engine(path.join(dir, file), { settings: { views: dir }, cache: true, lang: 'zh-CN', ...locals } as never, (e, html) => (e ? reject(e) : resolve({ html: html!, sync: !returned })));
      returned = true;
    });
  const settle = () => new Promise((r) => setTimeout(r, 20));

  it('renders the same page as express-handlebars, escaped, with the layout, the shared and the page’s own partials', async () => {
    const engine = engineFor();
    const locals = { name: '<甲>', rows: ['a&b', 'c'], own: true, partials: { mine: Handlebars.compile('[{{name}}]', COMPILER_OPTIONS) } };
    const first = await render(engine, 'page.hbs', locals);
    expect(first.sync).to.equal(false);
    await settle();
    const second = await render(engine, 'page.hbs', locals);
    expect(second.sync).to.equal(true);
    expect(second.html).to.equal(first.html);
    expect(second.html).to.equal('<main lang="zh-CN"><h1>搜索</h1>你好 &lt;甲&gt;<i>a&amp;b</i><i>c</i>[&lt;甲&gt;]</main>');
  });

  it('passes a template error to Express instead of throwing, and a page with a layout of its own goes the library’s way', async () => {
    const engine = engineFor();
    await render(engine, 'broken.hbs', { rows: [] });
    await settle();
    let error: unknown = null;
    await render(engine, 'broken.hbs', { rows: [1] }).catch((e: unknown) => (error = e));
    expect(String(error)).to.match(/partial missing could not be found/);
    await render(engine, 'page.hbs', { rows: [] });
    await settle();
    const bare = await render(engine, 'page.hbs', { rows: [], layout: false });
    expect(bare).to.deep.equal({ html: '<h1>搜索</h1>你好', sync: false });
  });
});

describe('view engine: pages as bytes', () => {
  it('utf8 gives the bytes Buffer.from gives, for any text (Chinese, emoji, lone surrogates)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 300 }), fc.constantFrom('', '长三角 <b>', '\uD800', 'a\uDC00b', '😀\uD83D')), (text) => {
        expect(utf8(text).equals(Buffer.from(text, 'utf8'))).to.equal(true);
      }),
      { numRuns: 500 },
    );
  });

  it('sends a rendered page as UTF-8 HTML with its length, and an error page too', async () => {
    const agent = await newAgent();
    for (const [path, status] of [['/login', 200], ['/no-such-page', 404]] as const) {
      const res = await agent.get(path);
      expect(res.status, path).to.equal(status);
      expect(res.headers['content-type']).to.equal('text/html; charset=utf-8');
      expect(Number(res.headers['content-length'])).to.equal(Buffer.byteLength(res.text));
      expect(res.text).to.match(/^<!DOCTYPE html>/).and.include('长三角');
    }
  });
});

describe('view engine: templates without indentation', () => {
  it('drops the white space that begins a line and nothing else', () => {
    expect(withoutIndentation('<ul>\n    <li>{{a}} b</li>\n\t\t<li>\n  c  d</li>\n</ul>  ')).to.equal('<ul>\n<li>{{a}} b</li>\n<li>\nc  d</li>\n</ul>  ');
  });

  it('is safe for every view: no element that shows white space as it is spans lines', () => {
    for (const file of files(path.join(ROOT, 'views'))) {
      const source = readFileSync(file, 'utf8');
      for (const m of source.matchAll(/<(pre|textarea)\b[^>]*>|<(\w+)\b[^>]*class="[^"]*\bprewrap\b[^"]*"[^>]*>/g)) {
        const tag = m[1] ?? m[2]!;
        const rest = source.slice(m.index! + m[0].length);
        const close = rest.indexOf(`</${tag}>`);
        expect(close, `${path.relative(ROOT, file)}: <${tag}> is closed`).to.be.at.least(0);
        expect(rest.slice(0, close), `${path.relative(ROOT, file)}: <${tag}> on one line`).to.not.include('\n');
      }
    }
  });

  it('compiles a page’s own partials as the views are: without indentation, with the known helpers only', () => {
    expect(compileView('<p>\n    {{title}} {{t "common:form.search"}}</p>')({ title: '<b>', lang: 'zh-CN' }, { helpers })).to.equal('<p>\n&lt;b&gt; 搜索</p>');
    expect(() => compileView('{{tt "x"}}')({}, { helpers })).to.throw(/unknown helper tt/);
  });

  it('renders a page without indentation', async () => {
    const res = await (await newAgent()).get('/login');
    expect(res.text).to.not.match(/\n[ \t]/);
    expect(res.text).to.include('<input type="hidden" name="_csrf"');
  });
});
