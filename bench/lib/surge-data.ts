/**
 * Data for the deadline surge, written straight into the database the running app uses (a second connection:
 * SQLite in WAL mode allows it, MariaDB obviously does): one open call of its own (deadline in a day, the per-PI
 * limit lifted), N PIs with a known password, and for each PI one complete draft ready to submit (lead and a
 * confirmed partner in another province, budget lines, the required attachment rows, a topic, 24 months).
 */
import { randomBytes } from 'node:crypto';
import { Op } from 'sequelize';
import { Call, CallTopic, Programme } from '../../server/calls/models.js';
import { DEFAULT_ATTACHMENT_KINDS, DEFAULT_BUDGET_CATEGORIES, DEFAULT_RULES } from '../../server/calls/rules.js';
import { initModels, releaseModels } from '../../server/models.js';
import { Institution, User, UserRole } from '../../server/people/models.js';
import { roleScopeKey, syntheticCreditCode } from '../../server/people/rules.js';
import { createSequelize, withTransaction } from '../../server/platform/db.js';
import { hashPassword } from '../../server/platform/passwords.js';
import { Attachment, BudgetLine, Proposal, ProposalPartner, ProposalSubmission } from '../../server/proposals/models.js';

const DAY = 24 * 3600_000;
export const SURGE_PASSWORD = 'bench-surge-2026';

export interface SurgePi {
  email: string;
  proposalId: number;
}

export interface SurgeFixture {
  callId: number;
  pis: SurgePi[];
  /** Rows in proposal_submissions for the surge call's proposals. */
  storedSubmissions(): Promise<number>;
  close(): Promise<void>;
}

export async function prepareSurge(databaseUrl: string, n: number): Promise<SurgeFixture> {
  const sequelize = createSequelize({ databaseUrl, poolMax: 4 });
  initModels(sequelize);
  const tag = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const seed = Math.floor(Math.random() * 1e6) * 1000;
  const passwordHash = await hashPassword(SURGE_PASSWORD);
  try {
    const made = await withTransaction(sequelize, async (t) => {
      const now = Date.now();
      const lead = await Institution.create({ nameZh: `压测牵头大学${tag}`, nameEn: null, provinceCode: 'SH', type: 'university', creditCode: syntheticCreditCode(seed + 1) }, { transaction: t });
      const other = await Institution.create({ nameZh: `压测合作大学${tag}`, nameEn: null, provinceCode: 'JS', type: 'university', creditCode: syntheticCreditCode(seed + 2) }, { transaction: t });
      const programme = await Programme.create({ nameZh: `压测计划${tag}`, nameEn: null }, { transaction: t });
      const call = await Call.create(
        {
          programmeId: programme.id,
          titleZh: `截止日压测指南${tag}`,
          titleEn: null,
          bodyZh: '压测',
          bodyEn: null,
          status: 'published',
          opensAt: new Date(now - DAY),
          deadlineAt: new Date(now + DAY),
          endorsementRequired: false,
          endorsementDeadlineAt: null,
          reviewDueAt: null,
          decisionAt: null,
          fundingMode: 'virtual',
          balancingPotFen: 0,
          reviewersPerProposal: 3,
          rulesJson: JSON.stringify({ ...DEFAULT_RULES, maxActivePerPi: 1000 }),
          budgetCategoriesJson: JSON.stringify(DEFAULT_BUDGET_CATEGORIES),
          attachmentKindsJson: JSON.stringify(DEFAULT_ATTACHMENT_KINDS),
          createdBy: null,
          publishedAt: new Date(now - DAY),
        },
        { transaction: t },
      );
      const topic = await CallTopic.create({ callId: call.id, code: 'S1', titleZh: '压测方向', titleEn: null, description: null, sortOrder: 0 }, { transaction: t });
      const contact = await User.create(
        { email: `surge-contact-${tag}@bench.yrd`, name: '压测合作联系人', passwordHash, institutionId: other.id, lang: 'zh-CN', emailVerifiedAt: new Date(), disabledAt: null },
        { transaction: t },
      );
      const pis: SurgePi[] = [];
      for (let i = 0; i < n; i++) {
        const email = `surge-${tag}-${i}@bench.yrd`;
        const pi = await User.create({ email, name: `压测负责人${i}`, passwordHash, institutionId: lead.id, lang: 'zh-CN', emailVerifiedAt: new Date(), disabledAt: null }, { transaction: t });
        await UserRole.create({ userId: pi.id, role: 'applicant', provinceCode: null, institutionId: null, scopeKey: roleScopeKey({ role: 'applicant' }), grantedBy: null }, { transaction: t });
        const p = await Proposal.create(
          {
            callId: call.id,
            topicId: topic.id,
            piUserId: pi.id,
            leadInstitutionId: lead.id,
            title: `截止日压测申报书${i}`,
            titleEn: null,
            abstract: '面向长三角区域共性关键技术需求，联合沪苏两地单位开展协同攻关，形成可推广的技术方案。'.repeat(2),
            keywords: '压测; 提交; 截止日',
            disciplineCode: 'F0401',
            durationMonths: 24,
          },
          { transaction: t },
        );
        const a = await ProposalPartner.create({ proposalId: p.id, institutionId: lead.id, provinceCode: 'SH', isLead: true, role: '牵头', contactUserId: pi.id, sortOrder: 0 }, { transaction: t });
        const b = await ProposalPartner.create(
          { proposalId: p.id, institutionId: other.id, provinceCode: 'JS', isLead: false, role: '合作', contactUserId: contact.id, sortOrder: 1, confirmedAt: new Date(), confirmedBy: contact.id },
          { transaction: t },
        );
        await BudgetLine.create({ proposalId: p.id, partnerId: a.id, year: 1, category: 'equipment', amountFen: 50_000_000 }, { transaction: t });
        await BudgetLine.create({ proposalId: p.id, partnerId: b.id, year: 2, category: 'materials', amountFen: 12_345_67 }, { transaction: t });
        for (const kind of ['application', 'agreement']) {
          await Attachment.create(
            { proposalId: p.id, kind, originalName: `${kind}.pdf`, storedName: randomBytes(24).toString('hex'), sizeBytes: 1000, mime: 'application/pdf', sha256: 'a'.repeat(64), uploadedBy: pi.id },
            { transaction: t },
          );
        }
        pis.push({ email, proposalId: p.id });
      }
      return { callId: call.id, pis };
    });
    const ids = made.pis.map((p) => p.proposalId);
    return {
      ...made,
      storedSubmissions: () => ProposalSubmission.count({ where: { proposalId: { [Op.in]: ids } } }),
      async close() {
        releaseModels(sequelize);
        await sequelize.close();
      },
    };
  } catch (e) {
    releaseModels(sequelize);
    await sequelize.close();
    throw e;
  }
}
