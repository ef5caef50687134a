import { expect } from 'chai';
import fc from 'fast-check';
import { AffinityIndex, disciplineMatch, jaccard, kthLargest, normaliseKeywords, terms, topN, type ExpertProfile, type ProposalText } from '../../server/review/affinity.js';

const SUPPLY_CHAIN: ProposalText = {
  title: '供应链金融风险的传染机制与防控研究',
  abstract: '研究中小企业供应链金融中的信用风险传染，构建风险预警模型。',
  keywords: '供应链金融，信用风险；风险传染',
  discipline: 'G0102',
};

const EXPERTS: ExpertProfile[] = [
  { keywords: ['供应链金融', '信用风险'], profile: '长期从事供应链金融与中小企业信用风险管理研究', disciplines: ['G0102'] },
  { keywords: ['医学影像', '深度学习'], profile: '医学影像分割与肿瘤早期诊断', disciplines: ['H1808'] },
  { keywords: ['城市交通'], profile: '城市交通拥堵治理与出行行为', disciplines: ['G0104'] },
];

describe('review: affinity of expert × proposal', () => {
  it('splits Chinese into character bigrams and keeps Latin words whole', () => {
    expect(terms('供应链金融')).to.deep.equal(['供应', '应链', '链金', '金融']);
    expect(terms('基于LSTM的需求预测')).to.deep.equal(['基于', '的需', '需求', '求预', '预测', 'lstm']);
    expect(terms('链')).to.deep.equal(['链']);
    expect(terms('ＡＩ（人工智能）')).to.deep.equal(['人工', '工智', '智能', 'ai']);
  });

  it('normalises keywords: Chinese and Latin separators, full-width forms, case, duplicates', () => {
    expect(normaliseKeywords('供应链金融，信用风险；Risk、risk , ＡＩ')).to.deep.equal(['ai', 'risk', '供应链金融', '信用风险']);
    expect(normaliseKeywords(null)).to.deep.equal([]);
  });

  it('grades discipline codes: same code, ancestor, same subject, same department, unrelated — symmetrically', () => {
    expect(disciplineMatch('G0101', 'G0101')).to.equal(1);
    expect(disciplineMatch('G01', 'G0101')).to.equal(0.8);
    expect(disciplineMatch('G0101', 'G0102')).to.equal(0.5);
    expect(disciplineMatch('G01', 'G02')).to.equal(0.2);
    expect(disciplineMatch('G0101', 'H1808')).to.equal(0);
    expect(disciplineMatch('', 'G01')).to.equal(0);
    fc.assert(
      fc.property(fc.stringMatching(/^[GH](0[1-4]){0,3}$/), fc.stringMatching(/^[GH](0[1-4]){0,3}$/), (a, b) => {
        expect(disciplineMatch(a, b)).to.equal(disciplineMatch(b, a));
      }),
    );
  });

  it('ranks the supply-chain finance expert first for a supply-chain finance proposal, the medical one last', () => {
    const ix = new AffinityIndex([SUPPLY_CHAIN], EXPERTS);
    const [finance, medical, traffic] = [0, 1, 2].map((e) => ix.score(e, 0));
    expect(finance).to.be.greaterThan(traffic!);
    expect(traffic).to.be.greaterThan(medical!); // same department (G) beats nothing in common
    expect(Array.from(ix.ranked(0, 3).experts)).to.deep.equal([0, 2, 1]);
    const parts = ix.explain(0, 0);
    expect(parts.discipline).to.equal(1);
    expect(parts.keywords).to.be.closeTo(2 / 3, 1e-12); // {供应链金融, 信用风险} of {供应链金融, 信用风险, 风险传染}
    expect(parts.text).to.be.within(0.2, 1);
  });

  it('scores an identical text higher than an unrelated one, and identical profiles the same', () => {
    const p: ProposalText = { title: '长三角区域创新协同治理机制', keywords: ['区域创新'], discipline: 'G04' };
    const same: ExpertProfile = { keywords: ['区域创新'], profile: '长三角区域创新协同治理机制', disciplines: ['G04'] };
    const other: ExpertProfile = { keywords: ['量子计算'], profile: '超导量子比特的退相干抑制', disciplines: ['A05'] };
    const ix = new AffinityIndex([p], [same, other, { ...same }]);
    expect(ix.score(0, 0)).to.be.greaterThan(ix.score(1, 0));
    expect(ix.score(0, 0)).to.equal(ix.score(2, 0));
    expect(ix.explain(0, 0).text).to.be.closeTo(ix.explain(2, 0).text, 0);
    expect(ix.score(1, 0)).to.equal(0);
  });

  it('keeps every affinity in [0, 1], computes the same value one by one and row by row, and ranks deterministically', () => {
    const word = fc.constantFrom('供应链', '金融', '风险', '创新', '治理', '区域', '交通', '医疗', 'AI', 'data', '模型', '决策');
    const text = fc.array(word, { maxLength: 12 }).map((w) => w.join(''));
    const code = fc.constantFrom('', 'G01', 'G0101', 'G0102', 'G02', 'H18');
    const proposal = fc.record({ title: text, abstract: text, keywords: fc.array(word, { maxLength: 4 }), discipline: code });
    const expert = fc.record({ keywords: fc.array(word, { maxLength: 4 }), profile: text, disciplines: fc.array(code, { maxLength: 2 }) });
    fc.assert(
      fc.property(fc.array(proposal, { minLength: 1, maxLength: 4 }), fc.array(expert, { minLength: 1, maxLength: 8 }), (ps, es) => {
        const ix = new AffinityIndex(ps, es);
        for (let p = 0; p < ps.length; p++) {
          const row = ix.row(p);
          for (let e = 0; e < es.length; e++) {
            expect(row[e]).to.equal(ix.score(e, p));
            expect(row[e]).to.be.within(0, 1);
          }
          const r = ix.ranked(p, es.length);
          for (let i = 1; i < r.experts.length; i++) {
            const [a, b] = [r.experts[i - 1]!, r.experts[i]!];
            expect(row[a]! > row[b]! || (row[a] === row[b] && a < b)).to.equal(true);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('picks the n best of a row, ties to the lower index, whatever n', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 40 }), fc.nat(45), (xs, n) => {
        const row = Float64Array.from(xs, (x) => x / 5);
        const all = xs.map((_, i) => i).sort((a, b) => row[b]! - row[a]! || a - b);
        expect(Array.from(topN(row, n).experts)).to.deep.equal(all.slice(0, n));
      }),
    );
  });

  it('gives the text share of a plain TF-IDF cosine over terms() on random mixed Chinese and Latin texts', () => {
    const piece = fc.constantFrom('供应链', '金融', '风', '险', '创新', 'ＡＩ', 'AI', 'Data ', 'data', '模型', '，', ' 5G ', '水资源', '治理', '의료');
    const text = fc.array(piece, { maxLength: 10 }).map((w) => w.join(''));
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 4 }), fc.array(text, { minLength: 1, maxLength: 5 }), (ps, es) => {
        const ix = new AffinityIndex(
          ps.map((t) => ({ title: t })),
          es.map((t) => ({ profile: t })),
        );
        const docs = [...ps.map((t) => `${t}\n\n`), ...es.map((t) => `\n${t}`)].map((t) => {
          const tf = new Map<string, number>();
          for (const x of terms(t)) tf.set(x, (tf.get(x) ?? 0) + 1);
          return tf;
        });
        const df = new Map<string, number>();
        for (const d of docs) for (const x of d.keys()) df.set(x, (df.get(x) ?? 0) + 1);
        const vec = (d: Map<string, number>) => {
          const v = new Map([...d].map(([x, n]) => [x, (1 + Math.log(n)) * (Math.log((1 + docs.length) / (1 + df.get(x)!)) + 1)]));
          const norm = Math.sqrt([...v.values()].reduce((a, w) => a + w * w, 0));
          return new Map([...v].map(([x, w]) => [x, norm > 0 ? w / norm : 0]));
        };
        for (let p = 0; p < ps.length; p++)
          for (let e = 0; e < es.length; e++) {
            const [a, b] = [vec(docs[p]!), vec(docs[ps.length + e]!)];
            const cos = [...a].reduce((sum, [x, w]) => sum + w * (b.get(x) ?? 0), 0);
            expect(ix.explain(e, p).text).to.be.closeTo(cos, 1e-12);
          }
      }),
      { numRuns: 300 },
    );
  });

  it('finds the k-th largest of a row in one pass as sorting a copy does, ties and zeros included', () => {
    const value = fc.oneof(fc.constantFrom(0, 0.25, 0.5, 1), fc.double({ min: 0, max: 1, noNaN: true }));
    fc.assert(
      fc.property(fc.array(value, { minLength: 2, maxLength: 300 }), fc.nat(), (xs, r) => {
        const row = Float64Array.from(xs);
        const k = 1 + (r % (row.length - 1));
        expect(kthLargest(row, k)).to.equal(row.slice().sort()[row.length - k]);
      }),
      { numRuns: 500 },
    );
  });

  it('measures keyword overlap as Jaccard, symmetric, 0 for an empty side', () => {
    expect(jaccard(['a', 'b'], ['b', 'c'])).to.be.closeTo(1 / 3, 1e-12);
    expect(jaccard(['a'], [])).to.equal(0);
    expect(jaccard(['a', 'b', 'c'], ['c'])).to.equal(jaccard(['c'], ['a', 'b', 'c']));
  });
});
