import { expect } from 'chai';
import fc from 'fast-check';
import { demoPdf } from '../../server/seed/demo-pdf.js';

/** What a PDF reader checks first: the cross-reference table points at each object, startxref at the table. */
function structureOf(pdf: Buffer) {
  const text = pdf.toString('latin1');
  const startxref = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(text)![1]);
  const [, count] = /^xref\n0 (\d+)\n/.exec(text.slice(startxref))!;
  const offsets = text.slice(startxref).split('\n').slice(3, 2 + Number(count)).map((l) => Number(l.slice(0, 10)));
  return { text, startxref, offsets };
}

describe('demo attachment PDF', () => {
  it('is well formed for any lines: every offset of the cross-reference table points at its object, every character outside printable ASCII becomes "?", and parentheses and backslashes are escaped', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 60 }), { minLength: 1, maxLength: 5 }), (lines) => {
        const pdf = demoPdf(lines);
        const { text, startxref, offsets } = structureOf(pdf);
        expect(text.startsWith('%PDF-1.4\n')).to.equal(true);
        expect(text.slice(startxref, startxref + 4)).to.equal('xref');
        expect(offsets).to.have.length(5);
        offsets.forEach((o, i) => expect(text.slice(o, o + `${i + 1} 0 obj`.length)).to.equal(`${i + 1} 0 obj`));
        const stream = /stream\n([\s\S]*)\nendstream/.exec(text)![1]!;
        expect(Number(/<< \/Length (\d+) >>/.exec(text)![1])).to.equal(stream.length);
        expect(/[^\x20-\x7e\n]/.test(stream)).to.equal(false);
        // Each line is exactly one string operand: no unescaped parenthesis ends it early or opens another.
        expect(stream.match(/Td \((?:[^\\()]|\\.)*\) Tj ET/g)).to.have.length(lines.length);
      }),
    );
  });

  it('writes a line as its text, escaped', () => {
    const { text } = structureOf(demoPdf(['a(b)\\c 中文']));
    expect(text).to.contain('Td (a\\(b\\)\\\\c ??) Tj ET');
  });
});
