/**
 * loadBundle reads a proposal and all its lists in one statement, in a different form per database (see
 * bundle.ts). These tests hold it to the models' own reads, with values at their columns' full length and
 * with characters JSON must escape: the MySQL form carries every list item as JSON text.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Institution } from '../../server/people/models.js';
import { loadBundle } from '../../server/proposals/bundle.js';
import { Attachment, BudgetLine, Proposal, ProposalPartner, ProposalSubmission, ReviewerExclusion } from '../../server/proposals/models.js';
import { resetDb } from '../support/platform.js';
import { makeCompleteDraft } from './helpers.js';

/** `n` characters of Chinese text with quotes, a backslash, a newline and a tab among them. */
const awkward = (n: number) => `“引号”"quote"\\反斜杠\n换行\t制表${'长'.repeat(n)}`.slice(0, n);

describe('proposal bundle', () => {
  beforeEach(resetDb);

  it('reads every list item at full column length, exactly as the models read it', async () => {
    const d = await makeCompleteDraft();
    await ProposalPartner.update({ role: awkward(500) }, { where: { id: d.partner.id } });
    await Institution.update({ nameZh: awkward(191), nameEn: `Long "name" ${'x'.repeat(150)}` }, { where: { id: d.partnerInst.id } });
    await Attachment.create({ proposalId: d.proposal.id, kind: 'other', originalName: awkward(255), storedName: randomBytes(24).toString('hex'), sizeBytes: 20_971_520, mime: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', sha256: 'f'.repeat(64), uploadedBy: d.pi.id });
    for (let i = 0; i < 3; i++) await ReviewerExclusion.create({ proposalId: d.proposal.id, expertName: awkward(100), expertInstitution: i === 0 ? null : awkward(191), reason: awkward(500) });
    await ProposalSubmission.create({ proposalId: d.proposal.id, idempotencyKey: randomBytes(16).toString('hex'), receiptNo: 'YRD-1-20261124-000001-1', snapshot: '{}', snapshotSha256: 'b'.repeat(64), submittedBy: d.pi.id });

    const b = (await loadBundle(d.proposal.id))!;
    const p = (await Proposal.findByPk(d.proposal.id))!;
    expect(b.proposal.title).to.equal(p.title);
    expect(b.proposal.abstract).to.equal(p.abstract);
    expect(b.proposal.updatedAt!.getTime()).to.equal(p.updatedAt.getTime());
    expect(b.endorsementRequired).to.equal(false);
    expect(b.otherActiveOfPi).to.equal(0);

    const partners = await ProposalPartner.findAll({ where: { proposalId: d.proposal.id }, order: [['sortOrder', 'ASC']] });
    expect(b.partners.map((x) => [x.id, x.role, x.provinceCode, x.isLead, x.contactUserId, x.confirmedAt?.getTime() ?? null])).to.deep.equal(partners.map((x) => [x.id, x.role, x.provinceCode, x.isLead, x.contactUserId, x.confirmedAt?.getTime() ?? null]));
    expect(b.partners[1]!.institutionName).to.equal(awkward(191));
    expect(b.partners[1]!.requestedFen).to.equal(12_345_67);

    const lines = await BudgetLine.findAll({ where: { proposalId: d.proposal.id }, order: [['partnerId', 'ASC'], ['year', 'ASC']] });
    expect(b.lines).to.deep.equal(lines.map((l) => ({ id: l.id, partnerId: l.partnerId, year: l.year, category: l.category, amountFen: l.amountFen })));

    const attachments = await Attachment.findAll({ where: { proposalId: d.proposal.id }, order: [['id', 'ASC']] });
    expect(b.attachments.map((a) => ({ ...a, createdAt: a.createdAt.getTime() }))).to.deep.equal(
      attachments.map((a) => ({ id: a.id, kind: a.kind, originalName: a.originalName, sizeBytes: Number(a.sizeBytes), mime: a.mime, sha256: a.sha256, createdAt: a.createdAt.getTime() })),
    );

    const exclusions = await ReviewerExclusion.findAll({ where: { proposalId: d.proposal.id }, order: [['id', 'ASC']] });
    expect(b.exclusions).to.deep.equal(exclusions.map((e) => ({ id: e.id, expertName: e.expertName, expertInstitution: e.expertInstitution, reason: e.reason })));
    expect(b.submissions.map((s) => s.receiptNo)).to.deep.equal(['YRD-1-20261124-000001-1']);
    expect(b.reviewerUserIds).to.deep.equal([]);
  });

  it('reads a proposal with empty lists, and nothing for a proposal that does not exist', async () => {
    const d = await makeCompleteDraft();
    await BudgetLine.destroy({ where: { proposalId: d.proposal.id } });
    await Attachment.destroy({ where: { proposalId: d.proposal.id } });
    const b = (await loadBundle(d.proposal.id))!;
    expect(b.proposal.id).to.equal(d.proposal.id);
    expect(b.partners.map((p) => p.requestedFen)).to.deep.equal([0, 0]);
    expect([b.lines, b.attachments, b.exclusions, b.submissions]).to.deep.equal([[], [], [], []]);
    expect(await loadBundle(d.proposal.id + 1000)).to.equal(null);
  });
});
