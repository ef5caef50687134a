import { expect } from 'chai';
import fc from 'fast-check';
import { z } from 'zod';
import { parseForm } from '../../server/platform/forms.js';
import { hasKey } from '../../server/platform/i18n.js';

/** Schemas as the routes write them: some fields with our own message keys, some with none (zod's English). */
const schema = z.object({
  count: z.coerce.number().int().positive(),
  choice: z.enum(['a', 'b']),
  flag: z.literal('1').optional(),
  named: z.coerce.number({ message: 'assignment:form.expertRequired' }).int({ message: 'assignment:form.expertRequired' }).positive({ message: 'assignment:form.expertRequired' }),
  reason: z.string().trim().min(1, { message: 'assignment:form.reasonRequired' }).max(10, { message: 'assignment:form.reasonTooLong' }),
});

describe('form errors', () => {
  it('every message next to a field is a key of both locales; a schema without its own message gives the generic one, never zod’s English', () => {
    const value = fc.oneof(fc.string({ maxLength: 14 }), fc.constantFrom('', ' ', 'NaN', '张三', '-1', '1.5', '0', '1e309', 'a', 'b'));
    fc.assert(
      fc.property(fc.record({ count: value, choice: value, flag: value, named: value, reason: value }), (body) => {
        const form = parseForm(schema, body);
        if (form.ok) return;
        for (const [field, key] of Object.entries(form.errors)) {
          expect(hasKey(key, 'zh-CN') && hasKey(key, 'en'), `${field}: ${key}`).to.equal(true);
          if (['count', 'choice', 'flag'].includes(field)) expect(key, field).to.equal('common:form.invalid');
        }
        // What was typed comes back as typed.
        for (const [k, v] of Object.entries(body)) expect(form.values[k]).to.equal(v);
      }),
      { numRuns: 300 },
    );
  });

  it('a number field given a name says which field is wrong, in the page’s language', () => {
    const form = parseForm(schema, { count: '3', choice: 'a', named: '张三', reason: '理由' });
    expect(form.ok).to.equal(false);
    if (!form.ok) expect(form.errors).to.deep.equal({ named: 'assignment:form.expertRequired' });
  });
});
