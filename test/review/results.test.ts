import { expect } from 'chai';
import ExcelJS from 'exceljs';
import { AuditEvent } from '../../server/platform/audit.js';
import { download, signedInAgent, type Agent } from '../support/agent.js';
import { resetDb } from '../support/platform.js';
import { resultsWorld } from './results-fixtures.js';

type World = Awaited<ReturnType<typeof resultsWorld>>;

/** The ranking table's rows as [rank, receipt, reviews cell, mean score, mean z, flagged]. */
function rankingOf(html: string) {
  const body = /<table class="data results-ranking">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? '';
  return [...body.matchAll(/<tr data-proposal-id="(\d+)"[\s\S]*?<\/tr>/g)].map((m) => {
    const row = m[0];
    return {
      id: Number(m[1]),
      rank: Number(/<td class="num rank">(\d+)<\/td>/.exec(row)![1]),
      receipt: /">(YRD-R-\d)/.exec(row)![1],
      meanScore: /class="num mean-score">([^<]*)</.exec(row)![1],
      meanZ: /class="num mean-z">([^<]*)</.exec(row)![1],
      incomplete: row.includes('tag-incomplete'),
      flagged: row.includes('disagreement'),
    };
  });
}

describe('review results: the officers’ ranking of a call', () => {
  let w: World;
  let officer: Agent;
  beforeEach(async () => {
    await resetDb();
    w = await resultsWorld();
    officer = await signedInAgent(w.officer.email);
  });

  it('ranks by mean z: P3, placed last by both its experts, stays below P2 although its raw mean is higher; drafts do not count', async () => {
    const res = await officer.get(`/calls/${w.call.id}/reviews`);
    expect(res.status).to.equal(200);
    const rows = rankingOf(res.text);
    expect(rows.map((r) => [r.rank, r.receipt])).to.deep.equal([
      [1, 'YRD-R-1'],
      [2, 'YRD-R-2'],
      [3, 'YRD-R-3'],
      [4, 'YRD-R-4'],
    ]);
    // P1: E1 60 and E2 100 — E3's draft (all 1s) is not among them.
    expect(rows[0]).to.include({ meanScore: '80.0', meanZ: '+1.11', incomplete: false, flagged: true });
    expect(rows[1]).to.include({ meanScore: '73.3', meanZ: '0.00', incomplete: false, flagged: true });
    expect(rows[2]).to.include({ meanScore: '75.0', meanZ: '−1.11', incomplete: false, flagged: false });
    expect(rows[3]).to.include({ meanScore: '—', meanZ: '—', incomplete: true, flagged: false });
    expect(res.text).to.contain('25'); // the threshold is stated
    expect(res.text).to.contain(`href="/calls/${w.call.id}/reviews/${w.p1.proposal.id}"`);
  });

  it('sorted by mean score the order is the raw one; an unknown sort falls back to mean z', async () => {
    const byScore = rankingOf((await officer.get(`/calls/${w.call.id}/reviews?sort=score`)).text);
    expect(byScore.map((r) => r.receipt)).to.deep.equal(['YRD-R-1', 'YRD-R-3', 'YRD-R-2', 'YRD-R-4']);
    const fallback = rankingOf((await officer.get(`/calls/${w.call.id}/reviews?sort=name`)).text);
    expect(fallback.map((r) => r.receipt)).to.deep.equal(['YRD-R-1', 'YRD-R-2', 'YRD-R-3', 'YRD-R-4']);
  });

  it('shows progress: submitted, outstanding (with drafts), invitations awaiting an answer, per expert', async () => {
    const html = (await officer.get(`/calls/${w.call.id}/reviews`)).text;
    expect(/class="progress-submitted">(\d+)</.exec(html)![1]).to.equal('7');
    expect(/class="progress-outstanding">(\d+)/.exec(html)![1]).to.equal('1');
    const expertRow = /<tr><th scope="row">中间专家丙<\/th>([\s\S]*?)<\/tr>/.exec(html)![1]!;
    // invited, accepted, submitted, outstanding, drafts, declined
    expect([...expertRow.matchAll(/<td class="num">(\d+)<\/td>/g)].map((m) => Number(m[1]))).to.deep.equal([0, 3, 2, 1, 1, 0]);
  });

  it('one proposal’s reviews: expert names, scores per criterion with weights, weighted score, z, both comments; no draft', async () => {
    const res = await officer.get(`/calls/${w.call.id}/reviews/${w.p1.proposal.id}`);
    expect(res.status).to.equal(200);
    expect(res.text).to.contain('严格专家甲').and.contain('宽松专家乙').and.not.contain('中间专家丙');
    expect(res.text).to.contain('方案可行，建议细化指标。').and.contain('团队偏弱，机密意见。');
    expect(res.text).to.contain('40%').and.contain('6 / 10').and.contain('10 / 10');
    expect([...res.text.matchAll(/<dd class="weighted">([^<]+)</g)].map((m) => m[1])).to.deep.equal(['100.0', '60.0']);
    expect([...res.text.matchAll(/<dd class="z">([^<]+)</g)].map((m) => m[1])).to.deep.equal(['+1.22', '+1.00']);
    expect((await officer.get(`/calls/${w.call.id}/reviews/999999`)).status).to.equal(404);
  });

  it('exports the ranking as xlsx and csv, formula-guarded, without reviewer names, and audits each export', async () => {
    const x = await download(officer, `/calls/${w.call.id}/reviews/export.xlsx`);
    expect(x.status).to.equal(200);
    expect(x.headers['content-type']).to.contain('spreadsheetml');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(x.body as unknown as ArrayBuffer);
    const ws = wb.worksheets[0]!;
    const rows = ws.getSheetValues().slice(2).map((r) => (r as unknown[]).slice(1));
    expect(rows.map((r) => [r[0], r[1]])).to.deep.equal([
      [1, 'YRD-R-1'],
      [2, 'YRD-R-2'],
      [3, 'YRD-R-3'],
      [4, 'YRD-R-4'],
    ]);
    expect(rows[0]!.slice(5, 14)).to.deep.equal(['2/2', '是', 80, 1.112, 40, '是', 1, 1, 0]);
    expect(rows[1]![2], 'formula neutralised').to.equal('\'=HYPERLINK("http://evil.example","长三角类脑芯片")');
    expect(rows[3]![6]).to.equal('未完成');

    const c = await download(officer, `/calls/${w.call.id}/reviews/export.csv?sort=score`);
    expect(c.status).to.equal(200);
    expect(c.headers['content-type']).to.contain('text/csv');
    const text = c.body.toString('utf8');
    expect(text.charCodeAt(0)).to.equal(0xfeff);
    const lines = text.slice(1).trim().split('\r\n');
    expect(lines).to.have.length(5);
    expect(lines.slice(1).map((l) => l.split(',')[1])).to.deep.equal(['YRD-R-1', 'YRD-R-3', 'YRD-R-2', 'YRD-R-4']);
    expect(text).to.contain(`"'=HYPERLINK(`);
    for (const body of [text, JSON.stringify(rows)]) for (const e of [w.e1, w.e2, w.e3]) expect(body).to.not.contain(e.name);

    const events = await AuditEvent.findAll({ where: { action: 'review_results.export', entityId: String(w.call.id) }, order: [['id', 'ASC']], raw: true });
    expect(events.map((e) => [e.actorId, JSON.parse(e.afterJson!).format, JSON.parse(e.afterJson!).sort])).to.deep.equal([
      [w.officer.id, 'xlsx', 'z'],
      [w.officer.id, 'csv', 'score'],
    ]);
  });

  it('is linked from the call page and the assignment page for the call’s officers', async () => {
    expect((await officer.get(`/calls/${w.call.id}`)).text).to.contain(`href="/calls/${w.call.id}/reviews"`);
    expect((await officer.get(`/calls/${w.call.id}/assignment`)).text).to.contain(`href="/calls/${w.call.id}/reviews"`);
  });
});
