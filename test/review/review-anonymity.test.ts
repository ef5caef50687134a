import { expect } from 'chai';
import { Op } from 'sequelize';
import { OutboxMessage } from '../../server/platform/mail/outbox.js';
import { sendReviewReminders } from '../../server/review/review-service.js';
import { platform, resetDb } from '../support/platform.js';
import { signedInAgent } from '../support/agent.js';
import { assign, DAY, openTab, reviewWorld } from './review-fixtures.js';

describe('reviews: applicants never see who reviews them', () => {
  beforeEach(resetDb);

  it("after reviews are written and submitted, the PI's and the partner's pages and mails hold no expert's name, e-mail or id", async () => {
    const w = await reviewWorld({ reviewDueAt: new Date(Date.now() + 2 * DAY) });
    await assign(w.call.id, w.proposal.id, w.expertB.id);
    const a = await signedInAgent(w.expertA.email);
    const tab = await openTab(a, w.aA.id);
    const scores = Object.fromEntries(w.criteria.map((c) => [`score_${c.id}`, '6']));
    const res = await a.post(`/reviews/${w.aA.id}`).type('form').send({ _csrf: tab.csrf, version: tab.version, intent: 'submit', ...scores, commentsToApplicant: '给申请人的意见', recommendation: 'fund' });
    expect(res.status).to.equal(303);
    const { sequelize } = await platform();
    expect(await sendReviewReminders(sequelize, new Date())).to.equal(1); // expert B, not yet submitted

    for (const who of [w.pi, w.contact]) {
      const agent = await signedInAgent(who.email);
      const pages = [`/proposals/${w.proposal.id}`, '/proposals', '/'];
      for (const path of pages) {
        const page = await agent.get(path);
        expect(page.status, path).to.equal(200);
        for (const e of [w.expertA, w.expertB]) {
          expect(page.text, path).to.not.contain(e.name);
          expect(page.text, path).to.not.contain(e.email);
          expect(page.text, path).to.not.contain(String(e.id));
        }
      }
      expect((await agent.get(`/reviews/${w.aA.id}`)).status).to.equal(403);
      const mails = await OutboxMessage.findAll({ where: { toAddress: { [Op.in]: [who.email] } } });
      for (const m of mails) {
        for (const e of [w.expertA, w.expertB]) {
          for (const body of [m.subject, m.textBody, m.htmlBody]) {
            expect(body).to.not.contain(e.name);
            expect(body).to.not.contain(e.email);
          }
        }
      }
    }
    // The reminder went to the expert only.
    expect(await OutboxMessage.count({ where: { template: 'review-reminder' } })).to.equal(1);
    expect(await OutboxMessage.count({ where: { template: 'review-reminder', toAddress: w.expertB.email } })).to.equal(1);
  });
});
