import { expect } from 'chai';
import fc from 'fast-check';
import { checkCreditCode, CREDIT_CODE_ALPHABET, creditCodeCheckChar, grantProblem, roleScopeKey, SYNTHETIC_CREDIT_SEEDS, syntheticCreditCode } from '../../server/people/rules.js';

/**
 * Reference implementation of the GB 32100-2015 check character, written from the standard independently
 * of rules.ts: character values 0–30 over the alphabet without I, O, S, V, Z; weight of position i is
 * 3^i mod 31; check value 31 − (Σ value·weight mod 31), where 31 becomes 0.
 */
const REF_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
function referenceCheck(body: string): string {
  let sum = 0;
  let weight = 1;
  for (const ch of body) {
    sum += REF_ALPHABET.indexOf(ch) * weight;
    weight = (weight * 3) % 31;
  }
  const c = 31 - (sum % 31);
  return REF_ALPHABET[c === 31 ? 0 : c]!;
}
const referenceValid = (code: string) => code.length === 18 && [...code].every((ch) => REF_ALPHABET.includes(ch)) && referenceCheck(code.slice(0, 17)) === code[17];

const codeChar = fc.constantFrom(...REF_ALPHABET.split(''));
const body17 = fc.array(codeChar, { minLength: 17, maxLength: 17 }).map((a) => a.join(''));
const validCode = body17.map((b) => b + referenceCheck(b));

describe('统一社会信用代码 (GB 32100-2015)', () => {
  it('uses the 31-character alphabet of the standard', () => {
    expect(CREDIT_CODE_ALPHABET).to.equal(REF_ALPHABET);
    for (const banned of 'IOSVZ') expect(CREDIT_CODE_ALPHABET).not.to.contain(banned);
  });

  it('accepts real registered codes', () => {
    // Published codes of well-known companies (business licences).
    for (const code of ['91330100799655058B', '9144030071526726XG', '914403001922038216', '91350100M000100Y43']) {
      expect(checkCreditCode(code), code).to.deep.equal({ code, problem: null });
    }
  });

  it('a random 17-character body plus its computed check character validates, and agrees with the reference', () => {
    fc.assert(
      fc.property(body17, (body) => {
        const check = creditCodeCheckChar(body);
        expect(check).to.equal(referenceCheck(body));
        expect(checkCreditCode(body + check).problem).to.equal(null);
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with the reference on arbitrary 18-character strings over the alphabet', () => {
    // Most random strings are invalid; one in 31 has the right check character by chance.
    fc.assert(fc.property(fc.array(codeChar, { minLength: 18, maxLength: 18 }).map((a) => a.join('')), (s) => (checkCreditCode(s).problem === null) === referenceValid(s)), { numRuns: 3000 });
  });

  it('detects any single-character change of a valid code', () => {
    const replacement = fc.constantFrom(...(REF_ALPHABET + 'IOSVZ-#* 中').split(''));
    fc.assert(
      fc.property(validCode, fc.nat(17), replacement, (code, pos, ch) => {
        fc.pre(ch !== code[pos]);
        const changed = code.slice(0, pos) + ch + code.slice(pos + 1);
        expect(checkCreditCode(changed).problem, `${code} → ${changed}`).to.not.equal(null);
      }),
      { numRuns: 5000 },
    );
  });

  it('detects a swap of two different adjacent characters in the body', () => {
    fc.assert(
      fc.property(validCode, fc.nat(15), (code, pos) => {
        fc.pre(code[pos] !== code[pos + 1]);
        const swapped = code.slice(0, pos) + code[pos + 1] + code[pos] + code.slice(pos + 2);
        expect(checkCreditCode(swapped).problem).to.equal('checkDigit');
      }),
      { numRuns: 2000 },
    );
  });

  it('normalises case and surrounding spaces, and names the problem', () => {
    expect(checkCreditCode('  91330100799655058b ')).to.deep.equal({ code: '91330100799655058B', problem: null });
    expect(checkCreditCode('9133010079965505').problem).to.equal('length');
    expect(checkCreditCode('91330100799655058BX').problem).to.equal('length');
    expect(checkCreditCode('91330100799655O58B').problem).to.equal('charset');
    expect(checkCreditCode('91330100799655058C').problem).to.equal('checkDigit');
  });

  it('synthetic demo codes are valid for every seed', () => {
    const seed = fc.oneof(fc.nat(1_000_000), fc.integer({ min: 0, max: SYNTHETIC_CREDIT_SEEDS - 1 }));
    fc.assert(fc.property(seed, fc.constantFrom('1' as const, '9' as const), (s, kind) => referenceValid(syntheticCreditCode(s, kind))), { numRuns: 1000 });
    expect(() => syntheticCreditCode(SYNTHETIC_CREDIT_SEEDS)).to.throw(RangeError);
    expect(() => syntheticCreditCode(-1)).to.throw(RangeError);
  });

  it('synthetic codes of distinct seeds differ (institutions.credit_code is UNIQUE and the benches draw seeds at random)', () => {
    // The earlier generator, in floating point past 2^53, gave 2,896,001 and 56,430,001 one code: the surge bench
    // draws its seeds as 1000·b + 1, and a full bench run once failed on the duplicate.
    expect(syntheticCreditCode(2_896_001)).to.not.equal(syntheticCreditCode(56_430_001));
    const codes = new Set<string>();
    for (let b = 0; b < 100_000; b++) codes.add(syntheticCreditCode(b * 1000 + 1));
    expect(codes.size).to.equal(100_000);
    const seed = fc.integer({ min: 0, max: SYNTHETIC_CREDIT_SEEDS - 1 });
    fc.assert(fc.property(seed, seed, (a, b) => (a === b) === (syntheticCreditCode(a) === syntheticCreditCode(b))), { numRuns: 2000 });
  });
});

describe('role grants', () => {
  it('an officer needs a province and an institution admin an institution', () => {
    expect(grantProblem({ role: 'officer' })).to.equal('people:roles.errors.provinceRequired');
    expect(grantProblem({ role: 'officer', provinceCode: 'SH' })).to.equal(null);
    expect(grantProblem({ role: 'institution_admin' })).to.equal('people:roles.errors.institutionRequired');
    expect(grantProblem({ role: 'institution_admin', institutionId: 7 })).to.equal(null);
    expect(grantProblem({ role: 'expert' })).to.equal(null);
    expect(grantProblem({ role: 'root' as never })).to.equal('people:roles.errors.unknownRole');
  });

  it('the scope key tells apart the same role in two scopes', () => {
    expect(roleScopeKey({ role: 'officer', provinceCode: 'SH' })).to.not.equal(roleScopeKey({ role: 'officer', provinceCode: 'JS' }));
    expect(roleScopeKey({ role: 'institution_admin', institutionId: 1 })).to.equal('institution:1');
    expect(roleScopeKey({ role: 'admin' })).to.equal('');
  });
});
