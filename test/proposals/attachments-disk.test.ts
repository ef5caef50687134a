import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { Attachment } from '../../server/proposals/models.js';
import { resetDb, testConfig } from '../support/platform.js';
import { signedInAgent } from '../support/agent.js';
import { makeCompleteDraft, pdfBytes, tokenFrom } from './helpers.js';

describe('proposal attachments when the upload disk is full', () => {
  const dir = testConfig().uploadDir;
  const tmp = path.join(dir, '.tmp');
  let mounted = false;

  before(function () {
    // A 64 KB file system over the upload directory (needs root and mount, as in CI; skipped elsewhere). The
    // files other tests stored are hidden under it until it is unmounted.
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', dir], { stdio: 'ignore' });
      mounted = true;
    } catch {
      this.skip();
    }
    mkdirSync(tmp, { mode: 0o700 });
  });
  after(() => {
    if (mounted) execFileSync('umount', [dir]);
  });
  beforeEach(resetDb);

  it('tells the PI plainly (507, in their language, next to the form), stores no row and leaves no partial file; a file that fits is then accepted', async () => {
    const d = await makeCompleteDraft();
    const agent = await signedInAgent(d.pi.email);
    const url = `/proposals/${d.proposal.id}/attachments`;
    const csrf = await tokenFrom(agent, `/proposals/${d.proposal.id}/edit/attachments`);
    const big = pdfBytes('x'.repeat(200_000));
    const before = await Attachment.count({ where: { proposalId: d.proposal.id } });

    const json = await agent.post(url).set('X-CSRF-Token', csrf).set('Accept', 'application/json').field('kind', 'other').attach('file', big, { filename: '申报书.pdf', contentType: 'application/pdf' });
    expect(json.status).to.equal(507);
    expect(json.body).to.deep.equal({ ok: false, error: '服务器存储空间已满，文件未能保存，申报书没有任何改动。请稍后重试；如临近截止时间，请联系项目主管。' });
    // Without JavaScript: the attachments step again, with the message.
    const page = await agent.post(`${url}?_csrf=${encodeURIComponent(csrf)}`).field('kind', 'other').attach('file', big, '申报书.pdf');
    expect(page.status).to.equal(507);
    expect(page.text).to.contain('服务器存储空间已满').and.contain('name="kind"');

    expect(await Attachment.count({ where: { proposalId: d.proposal.id } })).to.equal(before);
    expect(readdirSync(tmp)).to.deep.equal([]);
    const small = await agent.post(url).set('X-CSRF-Token', csrf).set('Accept', 'application/json').field('kind', 'other').attach('file', pdfBytes('small'), { filename: 'ok.pdf', contentType: 'application/pdf' });
    expect(small.status, small.text).to.equal(200);
    expect(await Attachment.count({ where: { proposalId: d.proposal.id } })).to.equal(before + 1);
  });
});
