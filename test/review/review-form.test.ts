import { expect } from 'chai';
import { AuditEvent } from '../../server/platform/audit.js';
import { Call } from '../../server/calls/models.js';
import { resetDb } from '../support/platform.js';
import { signedInAgent } from '../support/agent.js';
import { recommendationFromDb } from '../../server/review/review-service.js';
import { DAY, openTab, reviewOf, reviewWorld } from './review-fixtures.js';

describe('reviews: scoring form, drafts, optimistic locking, submission', () => {
  beforeEach(resetDb);

  it('saves a draft (scores, both comments, recommendation), shows it again and audits it', async () => {
    const w = await reviewWorld();
    const a = await signedInAgent(w.expertA.email);
    const tab = await openTab(a, w.aA.id);
    const [c1, c2] = w.criteria;
    const res = await a.post(`/reviews/${w.aA.id}`).type('form').send({ _csrf: tab.csrf, version: tab.version, intent: 'draft', [`score_${c1!.id}`]: '8', [`score_${c2!.id}`]: '', commentsToApplicant: '方法可行，建议补充对照实验。', confidentialComments: '预算偏高', recommendation: 'fund_with_changes' });
    expect(res.status).to.equal(303);
    const r = await reviewOf(w.aA.id);
    expect(r.status).to.equal('draft');
    expect(JSON.parse(r.scoresJson)).to.deep.equal({ [String(c1!.id)]: 8 });
    expect(r.commentsToApplicant).to.equal('方法可行，建议补充对照实验。');
    expect(r.confidentialComments).to.equal('预算偏高');
    expect(recommendationFromDb(r.recommendation)).to.equal('fund_with_changes');
    expect(r.recommendation!.length, "fits the VARCHAR(16) column").to.be.at.most(16);
    expect(r.version).to.equal(Number(tab.version) + 1);
    const again = await openTab(a, w.aA.id);
    expect(again.html).to.contain('<option value="8" selected>');
    expect(again.html).to.contain('<option value="fund_with_changes" selected>');
    expect(again.html).to.contain('方法可行，建议补充对照实验。');
    expect(again.version).to.equal(String(r.version));
    expect(await AuditEvent.count({ where: { action: 'review.save_draft', entityType: 'review', entityId: String(r.id) } })).to.equal(1);
  });

  it('two tabs: the second save is refused with 409, keeps what was typed, and the first save stays intact', async () => {
    const w = await reviewWorld();
    const a = await signedInAgent(w.expertA.email);
    const tab1 = await openTab(a, w.aA.id);
    const tab2 = await openTab(a, w.aA.id);
    expect(tab1.version).to.equal(tab2.version);
    const c1 = w.criteria[0]!;
    const first = await a.post(`/reviews/${w.aA.id}`).type('form').send({ _csrf: tab1.csrf, version: tab1.version, intent: 'draft', [`score_${c1.id}`]: '9', commentsToApplicant: '第一个标签页的意见' });
    expect(first.status).to.equal(303);
    const second = await a.post(`/reviews/${w.aA.id}`).type('form').send({ _csrf: tab2.csrf, version: tab2.version, intent: 'draft', [`score_${c1.id}`]: '3', commentsToApplicant: '第二个标签页写了很长的意见', confidentialComments: '保密意见二' });
    expect(second.status).to.equal(409);
    expect(second.text).to.contain('其他窗口或标签页');
    expect(second.text).to.contain('第二个标签页写了很长的意见');
    expect(second.text).to.contain('保密意见二');
    expect(second.text).to.contain('<option value="3" selected>');
    const r = await reviewOf(w.aA.id);
    expect(r.commentsToApplicant).to.equal('第一个标签页的意见');
    expect(JSON.parse(r.scoresJson)).to.deep.equal({ [String(c1.id)]: 9 });
    expect(r.version).to.equal(Number(tab1.version) + 1);
    // The conflict page carries the current version: saving from it is a deliberate overwrite and succeeds.
    expect(/name="version" value="(\d+)"/.exec(second.text)![1]).to.equal(String(r.version));
  });

  it('two saves from the same version at the same moment: exactly one wins, the other gets 409', async () => {
    const w = await reviewWorld();
    const a = await signedInAgent(w.expertA.email);
    const tab = await openTab(a, w.aA.id);
    const send = (text: string) => a.post(`/reviews/${w.aA.id}`).type('form').send({ _csrf: tab.csrf, version: tab.version, intent: 'draft', commentsToApplicant: text });
    const results = await Promise.all([send('甲'), send('乙'), send('丙')]);
    expect(results.map((r) => r.status).sort()).to.deep.equal([303, 409, 409]);
    const r = await reviewOf(w.aA.id);
    expect(r.version).to.equal(Number(tab.version) + 1);
    expect(['甲', '乙', '丙']).to.include(r.commentsToApplicant);
  });

  it('refuses to submit with an unscored criterion: the error is next to that field and the typed values are kept', async () => {
    const w = await reviewWorld();
    const a = await signedInAgent(w.expertA.email);
    const tab = await openTab(a, w.aA.id);
    const [c1, c2, c3] = w.criteria;
    const res = await a.post(`/reviews/${w.aA.id}`).type('form').send({ _csrf: tab.csrf, version: tab.version, intent: 'submit', [`score_${c1!.id}`]: '7', [`score_${c2!.id}`]: '6', [`score_${c3!.id}`]: '', commentsToApplicant: '未完成的评审', recommendation: 'fund' });
    expect(res.status).to.equal(400);
    expect(res.text).to.contain(`id="f-score_${c3!.id}-error"`);
    expect(res.text).to.not.contain(`id="f-score_${c1!.id}-error"`);
    expect(res.text).to.contain('<option value="7" selected>');
    expect(res.text).to.contain('未完成的评审');
    const r = await reviewOf(w.aA.id);
    expect(r.status).to.equal('draft');
    expect(r.commentsToApplicant).to.equal(null);
  });

  it('rejects a score outside the criterion\'s scale', async () => {
    const w = await reviewWorld();
    const a = await signedInAgent(w.expertA.email);
    const tab = await openTab(a, w.aA.id);
    const c1 = w.criteria[0]!;
    const res = await a.post(`/reviews/${w.aA.id}`).type('form').send({ _csrf: tab.csrf, version: tab.version, intent: 'draft', [`score_${c1.id}`]: String(c1.scaleMax + 1) });
    expect(res.status).to.equal(400);
    expect(res.text).to.contain(`id="f-score_${c1.id}-error"`);
    expect((await reviewOf(w.aA.id)).version).to.equal(Number(tab.version));
  });

  it('submits a complete review before the due date; afterwards it is read-only', async () => {
    const w = await reviewWorld();
    const a = await signedInAgent(w.expertA.email);
    const tab = await openTab(a, w.aA.id);
    const scores = Object.fromEntries(w.criteria.map((c) => [`score_${c.id}`, '7']));
    const res = await a.post(`/reviews/${w.aA.id}`).type('form').send({ _csrf: tab.csrf, version: tab.version, intent: 'submit', ...scores, commentsToApplicant: '很好', recommendation: 'fund' });
    expect(res.status).to.equal(303);
    const r = await reviewOf(w.aA.id);
    expect(r.status).to.equal('submitted');
    expect(r.submittedAt).to.be.instanceOf(Date);
    expect(await AuditEvent.count({ where: { action: 'review.submit', entityId: String(r.id) } })).to.equal(1);
    const page = await a.get(`/reviews/${w.aA.id}`);
    expect(page.status).to.equal(200);
    expect(page.text).to.not.contain(`action="/reviews/${w.aA.id}"`);
    expect(page.text).to.contain('很好');
    const again = await a.post(`/reviews/${w.aA.id}`).type('form').send({ _csrf: tab.csrf, version: String(r.version), intent: 'draft', ...scores, commentsToApplicant: '改掉' });
    expect(again.status).to.equal(409);
    expect((await reviewOf(w.aA.id)).commentsToApplicant).to.equal('很好');
    expect((await a.get('/reviews')).text).to.contain('已提交');
  });

  it('refuses to submit after the call\'s review due date, keeping what was typed; nothing is saved', async () => {
    const w = await reviewWorld();
    const a = await signedInAgent(w.expertA.email);
    const tab = await openTab(a, w.aA.id);
    await Call.update({ reviewDueAt: new Date(Date.now() - DAY) }, { where: { id: w.call.id } });
    const scores = Object.fromEntries(w.criteria.map((c) => [`score_${c.id}`, '5']));
    const res = await a.post(`/reviews/${w.aA.id}`).type('form').send({ _csrf: tab.csrf, version: tab.version, intent: 'submit', ...scores, commentsToApplicant: '迟到的意见', recommendation: 'reject' });
    expect(res.status).to.equal(409);
    expect(res.text).to.contain('评审截止时间已过');
    expect(res.text).to.contain('迟到的意见');
    const r = await reviewOf(w.aA.id);
    expect(r.status).to.equal('draft');
    expect(r.submittedAt).to.equal(null);
    expect(r.commentsToApplicant).to.equal(null);
  });
});
