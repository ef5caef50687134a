import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../server/config.js';
import { byChineseName, hasKey, LANGS } from '../../server/platform/i18n.js';

function files(dir: string, ext: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) files(p, ext, out);
    else if (p.endsWith(ext)) out.push(p);
  }
  return out;
}

function flatten(obj: unknown, prefix = '', out: string[] = []): string[] {
  if (obj && typeof obj === 'object') for (const [k, v] of Object.entries(obj)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  else out.push(prefix);
  return out;
}

const NS = readdirSync(path.join(ROOT, 'locales', 'zh-CN')).map((f) => f.replace(/\.json$/, ''));
const KEY = new RegExp(`["'\`]((?:${NS.join('|')}):[A-Za-z0-9_.-]+[A-Za-z0-9_])["'\`]`, 'g');

describe('locales', () => {
  it('zh-CN and en have the same keys in every namespace', () => {
    for (const ns of NS) {
      const [zh, en] = LANGS.map((l) => flatten(JSON.parse(readFileSync(path.join(ROOT, 'locales', l, `${ns}.json`), 'utf8'))).sort());
      expect(en, `namespace ${ns}: keys differ`).to.deep.equal(zh);
    }
  });

  it('every literal key used in views and server code exists in both languages', () => {
    const sources = [...files(path.join(ROOT, 'views'), '.hbs'), ...files(path.join(ROOT, 'server'), '.ts')];
    const missing: string[] = [];
    let seen = 0;
    for (const f of sources) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(KEY)) {
        const key = m[1]!;
        seen++;
        // Prefix keys completed at run time ("ns:a.b" + ".x") are checked through their parent object.
        for (const lang of LANGS) if (!hasKey(key, lang) && !hasKey(key.replace(/\.$/, ''), lang)) missing.push(`${lang} ${key} (${path.relative(ROOT, f)})`);
      }
    }
    expect(seen, 'the scan found the keys it should check').to.be.greaterThan(100);
    expect(missing).to.deep.equal([]);
  });

  it('views contain no hard-coded Chinese or English sentences outside {{t}} (except language names)', () => {
    const offenders: string[] = [];
    for (const f of files(path.join(ROOT, 'views'), '.hbs').filter((p) => !p.includes(`${path.sep}emails${path.sep}`))) {
      const text = readFileSync(f, 'utf8').replace(/{{!--[\s\S]*?--}}/g, '').replace(/{{[\s\S]*?}}/g, '').replace(/<[^>]+>/g, ' ');
      for (const line of text.split('\n')) {
        const words = line.replace(/中文|English|·|\*/g, '').trim();
        if (/[\u4e00-\u9fff]/.test(words) || /[A-Za-z]{3,}\s+[A-Za-z]{3,}/.test(words)) offenders.push(`${path.relative(ROOT, f)}: ${words}`);
      }
    }
    expect(offenders).to.deep.equal([]);
  });
});

describe('name order', () => {
  it('lists Chinese names in pinyin order, not by code point as a bare localeCompare does under LANG=C or en', () => {
    const names = ['张伟', '李娜', '王芳', '艾青', '欧阳修'];
    expect([...names].sort(byChineseName)).to.deep.equal(['艾青', '李娜', '欧阳修', '王芳', '张伟']);
  });
});

describe('flash messages', () => {
  it('show the values they carry (escaped), e.g. the receipt number after submitting', async () => {
    const { renderFlashForTest } = await import('../support/render.js');
    const html = renderFlashForTest({ kind: 'success', key: 'proposals:submit.done', params: { receiptNo: 'YRD-1-20261201-000007-1<b>' } });
    expect(html).to.contain('YRD-1-20261201-000007-1&lt;b&gt;');
  });
});
