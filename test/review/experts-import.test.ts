import { expect } from 'chai';
import ExcelJS from 'exceljs';
import { Op } from 'sequelize';
import { AuditEvent } from '../../server/platform/audit.js';
import { OutboxMessage } from '../../server/platform/mail/outbox.js';
import { User, UserRole } from '../../server/people/models.js';
import { ExpertDiscipline, ExpertProfile } from '../../server/review/models.js';
import { decodeText, parseCsv } from '../../server/review/experts-import.js';
import fc from 'fast-check';
import { joinKeywords, keywordProblem, MAX_KEYWORD_LENGTH, MAX_KEYWORDS, MAX_KEYWORDS_TEXT, validateImport } from '../../server/review/experts-rules.js';
import { isValidAddress } from '../../server/platform/mail/outbox.js';
import { resetDb } from '../support/platform.js';
import { makeInstitution, makeUser } from '../support/factories.js';
import { csrfFrom, newAgent, signedInAgent, type Agent } from '../support/agent.js';

const HEADER = ['姓名', '邮箱', '统一社会信用代码', '职称', '学科代码', '关键词', '最大评审量'];

async function xlsx(rows: Array<Array<string | number>>): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('专家');
  for (const r of rows) ws.addRow(r);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

const csv = (rows: string[][]) => Buffer.from('\uFEFF' + rows.map((r) => r.map((c) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')).join('\r\n') + '\r\n', 'utf8');

async function upload(agent: Agent, file: Buffer, name: string) {
  const token = await csrfFrom(agent, '/experts/import');
  return agent.post(`/experts/import?_csrf=${encodeURIComponent(token)}`).attach('file', file, { filename: name });
}

async function counts() {
  return {
    users: await User.count(),
    roles: await UserRole.count({ where: { role: 'expert' } }),
    profiles: await ExpertProfile.count(),
    disciplines: await ExpertDiscipline.count(),
    mails: await OutboxMessage.count(),
  };
}

describe('expert import', () => {
  let sh: Awaited<ReturnType<typeof makeInstitution>>;
  let js: Awaited<ReturnType<typeof makeInstitution>>;

  beforeEach(async () => {
    await resetDb();
    sh = await makeInstitution({ provinceCode: 'SH', nameZh: '上海测试大学' });
    js = await makeInstitution({ provinceCode: 'JS', nameZh: '江苏测试研究院' });
    await makeUser({ email: 'officer@example.org', roles: [{ role: 'officer', provinceCode: 'ZJ' }] });
  });

  it('imports nothing from a file with one bad row, and reports its row and column', async () => {
    const agent = await signedInAgent('officer@example.org');
    const before = await counts();
    const file = csv([
      HEADER,
      ['张伟', 'zhang.wei@example.org', sh.creditCode, '教授', 'G0101', '供应链；博弈', '5'],
      ['李娜', 'li.na@example.org', sh.creditCode.slice(0, 17) + (sh.creditCode[17] === '0' ? '1' : '0'), '研究员', 'G0202', '创新', ''],
      ['王强', 'wang.qiang@example.org', js.creditCode, '', 'G03', '', '8'],
    ]);
    const res = await upload(agent, file, 'experts.csv');
    expect(res.status).to.equal(400);
    expect(res.text).to.contain('检查未通过，未导入任何数据');
    const rows = [...res.text.matchAll(/<tr data-row="(\d+)" data-column="([a-zA-Z]*)">/g)].map((m) => [m[1], m[2]]);
    expect(rows).to.deep.equal([['3', 'creditCode']]);
    expect(res.text).to.contain('统一社会信用代码校验位不正确');
    expect(await counts()).to.deep.equal(before);
    expect(await AuditEvent.count({ where: { action: { [Op.like]: 'expert.%' } } })).to.equal(0);
  });

  it('reports every problem of every row at once, with the column each is in', async () => {
    const agent = await signedInAgent('officer@example.org');
    const file = await xlsx([
      HEADER,
      ['', 'not-an-email', sh.creditCode, '教授', 'G0101', '', '5'],
      ['李娜', 'dup@example.org', '123', '研究员', 'X1', '', '99'],
      ['王强', 'DUP@example.org', '91310000MA1FL4XQ3B', '', '', '', ''],
    ]);
    const res = await upload(agent, file, 'experts.xlsx');
    expect(res.status).to.equal(400);
    const rows = [...res.text.matchAll(/<tr data-row="(\d+)" data-column="([a-zA-Z]*)">/g)].map((m) => `${m[1]}:${m[2]}`);
    expect(rows).to.deep.equal(['2:name', '2:email', '3:creditCode', '3:disciplines', '3:maxLoad', '4:email', '4:creditCode', '4:disciplines']);
    expect(await User.count()).to.equal(1);
  });

  it('creates accounts, expert roles, profiles and invitation mails in one go, and adds the role to existing accounts', async () => {
    const existing = await makeUser({ email: 'known@example.org', name: '赵敏', institutionId: null, lang: 'en' });
    const agent = await signedInAgent('officer@example.org');
    const file = await xlsx([
      ['Name', 'E-mail', 'Institution credit code', 'Title', 'Disciplines', 'Keywords', 'Max load'],
      ['张伟', 'Zhang.Wei@Example.org', sh.creditCode, '教授', 'g0101, G0102', '供应链；博弈、数字经济', 6],
      ['王强', 'wang.qiang@example.org', js.creditCode.toLowerCase(), '', 'G03', '', ''],
      [],
      ['赵敏', 'known@example.org', js.creditCode, '研究员', 'G04', '区域治理', 3],
    ]);
    const res = await upload(agent, file, 'experts.xlsx');
    expect(res.status, res.text.slice(0, 2000)).to.equal(200);
    expect(res.text).to.contain('导入完成');

    const zhang = (await User.findOne({ where: { email: 'zhang.wei@example.org' } }))!;
    expect(zhang).to.deep.include({ name: '张伟', institutionId: sh.id, emailVerifiedAt: null, disabledAt: null });
    expect(zhang.passwordHash).to.match(/^\$argon2id\$/);
    expect((await UserRole.findAll({ where: { userId: zhang.id }, raw: true })).map((r) => r.role)).to.deep.equal(['expert']);
    const profile = (await ExpertProfile.findOne({ where: { userId: zhang.id } }))!;
    expect(profile).to.deep.include({ title: '教授', keywords: '供应链；博弈；数字经济', maxLoad: 6 });
    expect((await ExpertDiscipline.findAll({ where: { userId: zhang.id }, order: [['sortOrder', 'ASC']], raw: true })).map((d) => d.code)).to.deep.equal(['G0101', 'G0102']);
    const wang = (await User.findOne({ where: { email: 'wang.qiang@example.org' } }))!;
    expect((await ExpertProfile.findOne({ where: { userId: wang.id } }))!.maxLoad).to.equal(5);

    // The existing account keeps its password and language, gains the role, its institution and a profile.
    const known = (await User.findByPk(existing.id))!;
    expect(known.passwordHash).to.equal(existing.passwordHash);
    expect(known.institutionId).to.equal(js.id);
    expect((await UserRole.findAll({ where: { userId: existing.id }, raw: true })).map((r) => r.role).sort()).to.deep.equal(['applicant', 'expert']);
    expect(await ExpertProfile.count({ where: { userId: existing.id } })).to.equal(1);

    const mails = await OutboxMessage.findAll({ where: { template: 'expert-invited' }, order: [['toAddress', 'ASC']] });
    expect(mails.map((m) => m.toAddress)).to.deep.equal(['known@example.org', 'wang.qiang@example.org', 'zhang.wei@example.org']);
    const zhangMail = mails.find((m) => m.toAddress === 'zhang.wei@example.org')!;
    expect(zhangMail.subject).to.contain('专家库');
    const link = /http:\/\/127\.0\.0\.1:3000\/password\/reset\/([A-Za-z0-9_-]{43})/.exec(zhangMail.textBody);
    expect(link, zhangMail.textBody).to.not.equal(null);
    const knownMail = mails.find((m) => m.toAddress === 'known@example.org')!;
    expect(knownMail.subject).to.contain('expert pool');
    expect(knownMail.textBody).to.not.contain('/password/reset/');
    expect(knownMail.textBody).to.contain('/expert/profile');

    const summary = await AuditEvent.findOne({ where: { action: 'expert.import' } });
    expect(JSON.parse(summary!.afterJson!)).to.include({ fileName: 'experts.xlsx', rows: 3, created: 2, rolesAdded: 3, profilesCreated: 3, unchanged: 0 });
    expect(await AuditEvent.count({ where: { action: 'expert.invite' } })).to.equal(2);

    // The invitation's link sets a password, which activates the account: the expert signs in and sees the profile page.
    const guest = await newAgent();
    const setPage = await guest.get(`/password/reset/${link![1]}`);
    expect(setPage.status).to.equal(200);
    const token = /name="_csrf" value="([^"]+)"/.exec(setPage.text)![1]!;
    const set = await guest.post(`/password/reset/${link![1]}`).type('form').send({ _csrf: token, password: 'a-brand-new-password', confirmPassword: 'a-brand-new-password' });
    expect(set.status).to.equal(303);
    const expert = await signedInAgent('zhang.wei@example.org', 'a-brand-new-password');
    const page = await expert.get('/expert/profile');
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('上海测试大学').and.contain('value="G0101, G0102"');

    // Importing the same file again changes nothing and sends nothing.
    const again = await upload(agent, await xlsx([HEADER, ['张伟', 'zhang.wei@example.org', sh.creditCode, '教授', 'G0101', '', '']]), 'again.xlsx');
    expect(again.status).to.equal(200);
    expect(await OutboxMessage.count({ where: { template: 'expert-invited' } })).to.equal(3);
  });

  it('refuses keywords longer than their column in all (20 of 40 characters each), naming the row and column', async () => {
    const agent = await signedInAgent('officer@example.org');
    const before = await counts();
    const twenty = Array.from({ length: 20 }, (_, i) => `${'供应链协同优化'.repeat(5)}${String(i).padStart(3, '0')}`.slice(-40));
    const res = await upload(agent, await xlsx([HEADER, ['张伟', 'zhang.wei@example.org', sh.creditCode, '教授', 'G0101', twenty.join('；'), 5]]), 'experts.xlsx');
    expect(res.status).to.equal(400);
    expect([...res.text.matchAll(/<tr data-row="(\d+)" data-column="([a-zA-Z]*)">/g)].map((m) => [m[1], m[2]])).to.deep.equal([['2', 'keywords']]);
    expect(res.text).to.contain('关键词合计不超过 500 个字符。');
    expect(await counts()).to.deep.equal(before);
  });

  it('refuses an account of another institution, a disabled account, unknown columns and files that are not spreadsheets', async () => {
    await makeUser({ email: 'elsewhere@example.org', institutionId: sh.id });
    await makeUser({ email: 'gone@example.org', disabled: true });
    const agent = await signedInAgent('officer@example.org');
    const res = await upload(agent, csv([HEADER, ['甲', 'elsewhere@example.org', js.creditCode, '', 'G01', '', ''], ['乙', 'gone@example.org', js.creditCode, '', 'G01', '', '']]), 'x.csv');
    expect([...res.text.matchAll(/data-row="(\d+)" data-column="(\w*)"/g)].map((m) => `${m[1]}:${m[2]}`)).to.deep.equal(['2:creditCode', '3:email']);
    const unknown = await upload(agent, csv([[...HEADER, '备注'], ['甲', 'a@example.org', js.creditCode, '', 'G01', '', '', '']]), 'x.csv');
    expect(unknown.status).to.equal(400);
    expect(unknown.text).to.contain('data-row="1"').and.contain('无法识别的列标题').and.contain('备注');
    const pdf = await upload(agent, Buffer.from('%PDF-1.4\n%%EOF\n'), 'experts.csv');
    expect(pdf.status).to.equal(400);
    expect(pdf.text).to.contain('只支持 xlsx 或 csv 文件');
    const txt = await upload(agent, csv([HEADER]), 'experts.txt');
    expect(txt.status).to.equal(400);
    expect(await User.count()).to.equal(3);
  });

  it('refuses a file over the size limit with 413, and a missing file with 400', async () => {
    const agent = await signedInAgent('officer@example.org');
    const big = await upload(agent, Buffer.alloc(1024 * 1024 + 10, 0x41), 'big.csv');
    expect(big.status).to.equal(413);
    expect(big.text).to.contain('文件超过 1024 KB');
    const token = await csrfFrom(agent, '/experts/import');
    const none = await agent.post(`/experts/import?_csrf=${encodeURIComponent(token)}`).field('x', '1');
    expect(none.status).to.equal(400);
  });

  it('is for officers and admins only, and refuses a multipart post without a valid CSRF token', async () => {
    await makeUser({ email: 'expert@example.org', roles: [{ role: 'expert' }] });
    const expert = await signedInAgent('expert@example.org');
    expect((await expert.get('/experts')).status).to.equal(403);
    expect((await expert.get('/experts/import')).status).to.equal(403);
    const token = await csrfFrom(expert, '/expert/profile');
    const denied = await expert.post(`/experts/import?_csrf=${encodeURIComponent(token)}`).attach('file', csv([HEADER, ['甲', 'a@example.org', sh.creditCode, '', 'G01', '', '']]), { filename: 'x.csv' });
    expect(denied.status).to.equal(403);
    const officer = await signedInAgent('officer@example.org');
    const noToken = await officer.post('/experts/import').attach('file', csv([HEADER, ['甲', 'a@example.org', sh.creditCode, '', 'G01', '', '']]), { filename: 'x.csv' });
    expect(noToken.status).to.equal(403);
    expect(await User.count({ where: { email: 'a@example.org' } })).to.equal(0);
  });
});

describe('expert import: reading and validating (units)', () => {
  it('reads UTF-8 with BOM and GB18030 CSV, with quoted commas and line breaks', () => {
    expect(decodeText(Buffer.from('\uFEFF姓名,邮箱', 'utf8'))).to.equal('姓名,邮箱');
    const gbk = Buffer.from([0xd0, 0xd5, 0xc3, 0xfb, 0x2c, 0xd3, 0xca, 0xcf, 0xe4]); // 姓名,邮箱 in GBK
    expect(decodeText(gbk)).to.equal('姓名,邮箱');
    expect(parseCsv('a,"b,c","d ""e""\nf"\r\n1,2,3\n')).to.deep.equal([['a', 'b,c', 'd "e"\nf'], ['1', '2', '3']]);
  });

  it('keyword lists: accepted exactly when they are few enough, short enough, and fit the column once joined (random lists)', () => {
    const unit = fc.constantFrom('链', '协', 'a', 'B', '7', '-');
    // Mostly long keywords within the limit (so that twenty of them overflow the column), some of any length.
    const keyword = fc.oneof({ arbitrary: fc.string({ unit, minLength: 20, maxLength: 40 }), weight: 4 }, { arbitrary: fc.string({ unit, minLength: 1, maxLength: 45 }), weight: 1 });
    fc.assert(
      fc.property(fc.uniqueArray(keyword, { minLength: 10, maxLength: 25, size: 'max', selector: (k) => k.toLowerCase() }), (list) => {
        const joined = joinKeywords(list);
        const ok = list.length <= MAX_KEYWORDS && list.every((k) => k.length <= MAX_KEYWORD_LENGTH) && joined.length <= MAX_KEYWORDS_TEXT;
        expect(keywordProblem(list) === null).to.equal(ok);
        if (keywordProblem(list) === null) expect(joined.length).to.be.at.most(500);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses an address longer than an account can hold (191), which mail alone would accept', () => {
    const lookups = { institutionsByCode: new Map(), usersByEmail: new Map(), validAddress: isValidAddress };
    const address = `${'l'.repeat(64)}@${'d'.repeat(60)}.${'e'.repeat(62)}.org`;
    expect([address.length, isValidAddress(address)]).to.deep.equal([192, true]);
    const { problems } = validateImport([HEADER, ['甲', address, '', '', 'G01', '', '']], lookups);
    expect(problems.filter((p) => p.column === 'email').map((p) => p.key)).to.deep.equal(['experts:import.errors.emailTooLong']);
  });

  it('numbers rows as the spreadsheet does, skipping blank rows without renumbering', () => {
    const lookups = { institutionsByCode: new Map(), usersByEmail: new Map(), validAddress: isValidAddress };
    const { problems } = validateImport([HEADER, ['', '', '', '', '', '', ''], ['甲', 'a@example.org', '', '', 'G01', '', '']], lookups);
    expect(problems.map((p) => `${p.row}:${p.column}:${p.key}`)).to.deep.equal(['3:creditCode:experts:import.errors.creditCodeRequired']);
  });
});
