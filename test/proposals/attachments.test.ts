import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { Attachment } from '../../server/proposals/models.js';
import { sweepAttachmentFiles } from '../../server/proposals/attachments.js';
import { resetDb, testConfig } from '../support/platform.js';
import { makeUser } from '../support/factories.js';
import { newAgent, signedInAgent, type Agent } from '../support/agent.js';
import { makeCompleteDraft, pdfBytes, tokenFrom } from './helpers.js';
import type { AttachmentKind } from '../../server/calls/rules.js';

const listing = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

describe('proposal attachments', () => {
  const uploadDir = testConfig().uploadDir;
  let seen: Set<string>;
  let beforeTmp: Set<string>;

  beforeEach(async () => {
    await resetDb();
    seen = new Set(listing(uploadDir));
    beforeTmp = new Set(listing(path.join(uploadDir, '.tmp')));
  });
  afterEach(() => {
    // Remove what this test stored.
    for (const f of listing(uploadDir)) if (!seen.has(f) && f !== '.tmp') rmSync(path.join(uploadDir, f), { force: true });
    for (const f of listing(path.join(uploadDir, '.tmp'))) if (!beforeTmp.has(f)) rmSync(path.join(uploadDir, '.tmp', f), { force: true });
  });

  const newFiles = () => listing(uploadDir).filter((f) => !seen.has(f) && f !== '.tmp');
  const newTmp = () => listing(path.join(uploadDir, '.tmp')).filter((f) => !beforeTmp.has(f));

  async function draftWithAgent(kinds?: AttachmentKind[]) {
    const d = await makeCompleteDraft(kinds ? { call: { attachmentKinds: kinds } } : {});
    const agent = await signedInAgent(d.pi.email);
    const csrf = await tokenFrom(agent, `/proposals/${d.proposal.id}/edit/attachments`);
    return { ...d, agent, csrf };
  }

  const upload = (agent: Agent, id: number, csrf: string, kind: string, bytes: Buffer, filename: string) =>
    agent.post(`/proposals/${id}/attachments`).set('X-CSRF-Token', csrf).set('Accept', 'application/json').field('kind', kind).attach('file', bytes, { filename, contentType: 'application/pdf' });

  it('stores a real PDF under an opaque name inside UPLOAD_DIR with its sha256, and leaves no temp file', async () => {
    const { agent, csrf, proposal } = await draftWithAgent();
    const bytes = pdfBytes('% body');
    const res = await upload(agent, proposal.id, csrf, 'other', bytes, '申报书 正文.pdf');
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.deep.equal({ ok: true, redirect: `/proposals/${proposal.id}/edit/attachments` });
    const row = (await Attachment.findOne({ where: { proposalId: proposal.id, kind: 'other' } }))!;
    expect(row.sha256).to.equal(createHash('sha256').update(bytes).digest('hex'));
    expect(row.originalName).to.equal('申报书 正文.pdf');
    expect(row.storedName).to.match(/^[a-f0-9]{48}$/);
    expect(newFiles()).to.deep.equal([row.storedName]);
    expect(readFileSync(path.join(uploadDir, row.storedName)).equals(bytes)).to.equal(true);
    expect(newTmp()).to.deep.equal([]);

    const dl = await agent.get(`/proposals/${proposal.id}/attachments/${row.id}`).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    expect(dl.status).to.equal(200);
    expect((dl.body as Buffer).equals(bytes)).to.equal(true);
    expect(dl.headers['content-type']).to.equal('application/pdf');
    expect(dl.headers['x-content-type-options']).to.equal('nosniff');
    expect(dl.headers['content-disposition']).to.equal(`attachment; filename="___ __.pdf"; filename*=UTF-8''${encodeURIComponent('申报书 正文.pdf')}`);
  });

  it('accepts the no-JavaScript form (token in the action URL, multipart only) and refuses multipart without a token', async () => {
    const { agent, csrf, proposal } = await draftWithAgent();
    const ok = await agent.post(`/proposals/${proposal.id}/attachments?_csrf=${encodeURIComponent(csrf)}`).field('kind', 'other').attach('file', pdfBytes(), 'a.pdf');
    expect(ok.status).to.equal(303);
    expect(ok.headers.location).to.equal(`/proposals/${proposal.id}/edit/attachments`);
    const none = await agent.post(`/proposals/${proposal.id}/attachments`).field('kind', 'other').attach('file', pdfBytes(), 'b.pdf');
    expect(none.status).to.equal(403);
    const wrong = await agent.post(`/proposals/${proposal.id}/attachments?_csrf=forged`).field('kind', 'other').attach('file', pdfBytes(), 'c.pdf');
    expect(wrong.status).to.equal(403);
    // The URL token is not accepted for ordinary (url-encoded) forms.
    const form = await agent.post(`/proposals/${proposal.id}/edit/basic?_csrf=${encodeURIComponent(csrf)}`).type('form').send({ title: 'via url token' });
    expect(form.status).to.equal(403);
    expect(await Attachment.count({ where: { proposalId: proposal.id, kind: 'other' } })).to.equal(1);
  });

  it('refuses an .exe renamed .pdf, and HTML or SVG renamed .pdf, from the bytes (400 with a message), keeping nothing', async () => {
    const { agent, csrf, proposal } = await draftWithAgent();
    const exe = Buffer.concat([Buffer.from('4d5a90000300000004000000ffff0000b800000000000000400000000000000000000000000000000000000000000000000000000000000000000000800000000e1fba0e00b409cd21b8014ccd21546869732070726f6772616d2063616e6e6f742062652072756e20696e20444f53206d6f64652e0d0d0a2400000000000000', 'hex'), Buffer.alloc(512)]);
    const html = Buffer.from('<!DOCTYPE html><html><body><script>alert(1)</script></body></html>');
    const svg = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1" height="1"/></svg>');
    for (const [bytes, name] of [[exe, 'setup.pdf'], [html, 'page.pdf'], [svg, 'image.pdf']] as const) {
      const res = await upload(agent, proposal.id, csrf, 'other', bytes, name);
      expect(res.status, name).to.equal(400);
      expect(res.body.error, name).to.contain('文件内容不是允许的格式');
    }
    const html400 = await agent.post(`/proposals/${proposal.id}/attachments?_csrf=${encodeURIComponent(csrf)}`).field('kind', 'other').attach('file', exe, 'setup.pdf');
    expect(html400.status).to.equal(400);
    expect(html400.text).to.contain('文件内容不是允许的格式（PDF / DOCX / XLSX）');
    expect(await Attachment.count({ where: { proposalId: proposal.id, kind: 'other' } })).to.equal(0);
    expect(newFiles()).to.deep.equal([]);
    expect(newTmp()).to.deep.equal([]);
  });

  it('refuses an oversize file with 413 and states the limit, leaving no temp file', async () => {
    const kinds: AttachmentKind[] = [
      { code: 'small', nameZh: '小附件', nameEn: 'Small', required: false, types: ['pdf'], maxBytes: 1024 },
      { code: 'large', nameZh: '大附件', nameEn: 'Large', required: false, types: ['pdf'], maxBytes: 4096 },
    ];
    const { agent, csrf, proposal } = await draftWithAgent(kinds);
    const over = await upload(agent, proposal.id, csrf, 'large', pdfBytes('x'.repeat(6000)), 'big.pdf');
    expect(over.status).to.equal(413);
    expect(over.body.error).to.equal('文件过大，上限为 4.0 KB。');
    const overKind = await upload(agent, proposal.id, csrf, 'small', pdfBytes('x'.repeat(2000)), 'mid.pdf');
    expect(overKind.status).to.equal(413);
    expect(overKind.body.error).to.equal('文件过大，“小附件”的上限为 1.0 KB。');
    const page = await agent.post(`/proposals/${proposal.id}/attachments?_csrf=${encodeURIComponent(csrf)}`).field('kind', 'large').attach('file', pdfBytes('x'.repeat(6000)), 'big.pdf');
    expect(page.status).to.equal(413);
    expect(page.text).to.contain('文件过大，上限为 4.0 KB。');
    expect(await Attachment.count({ where: { proposalId: proposal.id, kind: ['small', 'large'] } })).to.equal(0);
    expect(newFiles()).to.deep.equal([]);
    expect(newTmp()).to.deep.equal([]);
  });

  it('answers malformed or over-long multipart bodies with 400 and keeps no temp file', async () => {
    const { agent, csrf, proposal } = await draftWithAgent();
    const url = `/proposals/${proposal.id}/attachments`;
    const truncated = await agent.post(url).set('X-CSRF-Token', csrf).set('Accept', 'application/json').set('Content-Type', 'multipart/form-data; boundary=XYZ').send('--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 trunc');
    expect(truncated.status).to.equal(400);
    expect(truncated.body.error).to.contain('上传内容不完整或格式错误');
    const twoFiles = await agent.post(url).set('X-CSRF-Token', csrf).set('Accept', 'application/json').field('kind', 'other').attach('file', pdfBytes(), 'a.pdf').attach('file', pdfBytes(), 'b.pdf');
    expect(twoFiles.status).to.equal(400);
    let many = agent.post(url).set('X-CSRF-Token', csrf).set('Accept', 'application/json');
    for (let i = 0; i < 10; i++) many = many.field(`f${i}`, 'x');
    const manyRes = await many.attach('file', pdfBytes(), 'a.pdf');
    expect(manyRes.status).to.equal(400);
    expect(await Attachment.count({ where: { proposalId: proposal.id, kind: 'other' } })).to.equal(0);
    expect(newFiles()).to.deep.equal([]);
    expect(newTmp()).to.deep.equal([]);
    // The process is still up and answers.
    expect((await agent.get(`/proposals/${proposal.id}/edit/attachments`)).status).to.equal(200);
  });

  it('stores a hostile file name safely and shows it escaped', async () => {
    const { agent, csrf, proposal } = await draftWithAgent();
    const escapeTarget = path.resolve(uploadDir, '../../x.pdf');
    const r1 = await upload(agent, proposal.id, csrf, 'other', pdfBytes(), '../../x.pdf');
    expect(r1.status).to.equal(200);
    const r2 = await upload(agent, proposal.id, csrf, 'other', pdfBytes('2'), '<img src=x onerror=alert(1)>.pdf');
    expect(r2.status).to.equal(200);
    expect(existsSync(escapeTarget)).to.equal(false);
    expect(existsSync(path.resolve(uploadDir, '..', 'x.pdf'))).to.equal(false);
    const rows = await Attachment.findAll({ where: { proposalId: proposal.id, kind: 'other' }, order: [['id', 'ASC']] });
    expect(rows.map((r) => r.storedName).every((n) => /^[a-f0-9]{48}$/.test(n) && existsSync(path.join(uploadDir, n)))).to.equal(true);
    expect(rows[0]!.originalName).to.not.contain('/');
    const page = await agent.get(`/proposals/${proposal.id}/edit/attachments`);
    expect(page.text).to.not.contain('<img src=x onerror=alert(1)>');
    expect(page.text).to.contain('&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;.pdf');
  });

  it('lets only people who may see the proposal download, and only its PI upload or delete', async () => {
    const { agent, csrf, proposal, contact } = await draftWithAgent();
    await upload(agent, proposal.id, csrf, 'other', pdfBytes(), 'a.pdf');
    const row = (await Attachment.findOne({ where: { proposalId: proposal.id, kind: 'other' } }))!;
    const url = `/proposals/${proposal.id}/attachments/${row.id}`;
    const other = await makeUser({ email: 'pib@example.org' });
    const b = await signedInAgent(other.email);
    expect((await b.get(url)).status).to.equal(403);
    const bCsrf = await tokenFrom(b, '/proposals');
    const bUpload = await upload(b, proposal.id, bCsrf, 'other', pdfBytes(), 'evil.pdf');
    expect(bUpload.status).to.equal(403);
    expect((await b.post(`${url}/delete`).type('form').send({ _csrf: bCsrf })).status).to.equal(403);
    const anon = await (await newAgent()).get(url);
    expect(anon.status).to.equal(303);
    expect(anon.headers.location).to.match(/^\/login\?next=/);
    // A partner's contact may read the proposal's attachments but not upload.
    const c = await signedInAgent(contact.email);
    expect((await c.get(url)).status).to.equal(200);
    expect((await upload(c, proposal.id, await tokenFrom(c, '/proposals'), 'other', pdfBytes(), 'p.pdf')).status).to.equal(403);
    // The PI deletes it: row and file are gone.
    const del = await agent.post(`${url}/delete`).type('form').send({ _csrf: csrf });
    expect(del.status).to.equal(303);
    expect(await Attachment.findByPk(row.id)).to.equal(null);
    expect(existsSync(path.join(uploadDir, row.storedName))).to.equal(false);
    expect(await Attachment.count({ where: { proposalId: proposal.id, kind: 'other' } })).to.equal(0);
  });

  it('the sweep removes stored files no row references (older than the grace period) and keeps the others', async () => {
    const { agent, csrf, proposal } = await draftWithAgent();
    await upload(agent, proposal.id, csrf, 'other', pdfBytes(), 'kept.pdf');
    const kept = (await Attachment.findOne({ where: { proposalId: proposal.id, kind: 'other' } }))!.storedName;
    const orphan = 'f'.repeat(48);
    const fresh = 'e'.repeat(48);
    writeFileSync(path.join(uploadDir, orphan), 'orphan');
    writeFileSync(path.join(uploadDir, fresh), 'in flight');
    const old = new Date(Date.now() - 2 * 3600_000);
    utimesSync(path.join(uploadDir, orphan), old, old);
    utimesSync(path.join(uploadDir, kept), old, old);
    const removed = await sweepAttachmentFiles({ uploadDir }, 3600_000);
    expect(removed).to.include(orphan);
    expect(existsSync(path.join(uploadDir, orphan))).to.equal(false);
    expect(existsSync(path.join(uploadDir, kept))).to.equal(true);
    expect(existsSync(path.join(uploadDir, fresh))).to.equal(true);
  });
});
