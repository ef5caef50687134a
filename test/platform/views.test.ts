import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Handlebars from 'handlebars';
import { ROOT } from '../../server/config.js';
import { CachedPartialsHandlebars, COMPILER_OPTIONS, helpers, syncWhenCompiled, viewHandlebars } from '../../server/platform/views.js';

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
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.hbs') ? [path.join(dir, e.name)] : []));

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
