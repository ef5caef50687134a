import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Handlebars from 'handlebars';
import { ROOT } from '../../server/config.js';
import { CachedPartialsHandlebars, COMPILER_OPTIONS, helpers } from '../../server/platform/views.js';

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
