import { expect } from 'chai';
import { Op } from 'sequelize';
import { OutboxMessage } from '../../server/platform/mail/outbox.js';
import { Proposal } from '../../server/proposals/models.js';
import { Review } from '../../server/review/review-models.js';
import { sendReviewReminders } from '../../server/review/review-service.js';
import { platform, resetDb } from '../support/platform.js';
import { makeCompleteDraft } from '../proposals/helpers.js';
import { assign, DAY, makeExpert, reviewWorld } from './review-fixtures.js';

const HOUR = 3600_000;

async function remindersTo(email: string) {
  return OutboxMessage.findAll({ where: { toAddress: email, template: 'review-reminder' }, order: [['id', 'ASC']] });
}

describe('reviews: reminder mails before the due date', () => {
  beforeEach(resetDb);

  it('sends one reminder per expert (listing all their unfinished reviews), at most once a day, never for submitted reviews', async () => {
    const now = new Date();
    const w = await reviewWorld({ reviewDueAt: new Date(now.getTime() + 2 * DAY) });
    // A second unfinished review for expert A on another proposal of the same call.
    const other = await Proposal.create({ callId: w.call.id, piUserId: w.pi.id, leadInstitutionId: w.leadInst.id, title: '第二个待评审项目', titleEn: null, abstract: null, keywords: null, disciplineCode: null, durationMonths: 24, topicId: null, status: 'eligible' });
    await assign(w.call.id, other.id, w.expertA.id);
    // Expert B has submitted; expert C was only invited.
    const bAssignment = await assign(w.call.id, w.proposal.id, w.expertB.id);
    await Review.create({ assignmentId: bAssignment.id, scoresJson: '{}', status: 'submitted', submittedAt: now });
    const c = await makeExpert('专家丙', 'expert.gamma@example.org');
    await assign(w.call.id, w.proposal.id, c.id, 'invited');

    const { sequelize } = await platform();
    expect(await sendReviewReminders(sequelize, now, { baseUrl: 'https://yrd.example' })).to.equal(1);
    const mails = await remindersTo(w.expertA.email);
    expect(mails).to.have.length(1);
    expect(mails[0]!.textBody).to.contain(w.proposal.title);
    expect(mails[0]!.textBody).to.contain('第二个待评审项目');
    expect(mails[0]!.textBody).to.contain(`https://yrd.example/reviews/${w.aA.id}`);
    expect(mails[0]!.subject).to.contain('2');
    expect(await remindersTo(w.expertB.email)).to.have.length(0);
    expect(await remindersTo(c.email)).to.have.length(0);

    // Within 24 hours: nothing new. After 24 hours (due date still within 3 days): one more.
    expect(await sendReviewReminders(sequelize, new Date(now.getTime() + 1 * HOUR))).to.equal(0);
    expect(await sendReviewReminders(sequelize, new Date(now.getTime() + 23 * HOUR))).to.equal(0);
    expect(await remindersTo(w.expertA.email)).to.have.length(1);
    expect(await sendReviewReminders(sequelize, new Date(now.getTime() + 25 * HOUR))).to.equal(1);
    expect(await remindersTo(w.expertA.email)).to.have.length(2);
  });

  it('sends nothing when the due date is more than 3 days away or already past, or once everything is submitted', async () => {
    const now = new Date();
    const w = await reviewWorld({ reviewDueAt: new Date(now.getTime() + 5 * DAY) });
    const { sequelize } = await platform();
    expect(await sendReviewReminders(sequelize, now)).to.equal(0);
    expect(await sendReviewReminders(sequelize, new Date(now.getTime() + 6 * DAY))).to.equal(0);
    expect(await sendReviewReminders(sequelize, new Date(now.getTime() + 2.5 * DAY))).to.equal(1);
    await Review.update({ status: 'submitted', submittedAt: now }, { where: { assignmentId: w.aA.id } });
    expect(await sendReviewReminders(sequelize, new Date(now.getTime() + 4 * DAY))).to.equal(0);
    expect(await OutboxMessage.count({ where: { template: 'review-reminder', toAddress: { [Op.ne]: w.expertA.email } } })).to.equal(0);
  });

  it('reminds in the expert\'s language', async () => {
    const now = new Date();
    const { call, proposal } = await makeCompleteDraft({ call: { reviewDueAt: new Date(now.getTime() + DAY) } });
    const e = await makeExpert('Expert English', 'expert.en@example.org');
    await e.update({ lang: 'en' });
    await assign(call.id, proposal.id, e.id);
    const { sequelize } = await platform();
    expect(await sendReviewReminders(sequelize, now)).to.equal(1);
    const [m] = await remindersTo(e.email);
    expect(m!.subject).to.match(/^Reminder/);
  });
});
