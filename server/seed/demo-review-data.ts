/**
 * Fixed texts of the demo call in review (demo-review.ts): the call, its criteria with their scales, and the
 * reviewers' comments by how good the reviewer found the proposal — data, in the reviewers' language.
 */

export const REVIEW_CALL = {
  titleZh: '2026年度长三角科技创新共同体联合攻关计划项目（第二批）',
  titleEn: 'YRD Joint Research Programme — 2026 second call',
  bodyZh:
    '本批次面向长三角区域协同创新中的重点问题，由三省一市联合组织。申报已于截止日期关闭，' +
    '经牵头单位审核、各省市项目主管形式审查合格的项目进入通讯评审，每个项目由三位跨省市专家独立评审。',
  bodyEn:
    'This second call of 2026 addresses key questions of regional collaborative innovation. Submissions are closed; ' +
    'proposals endorsed and screened eligible are in peer review, each read independently by three experts from the shared pool.',
};

/** Reviewers per proposal. */
export const REVIEW_K = 3;

/** Criteria with their weights (%) and scales (1..scaleMax): two scored out of 10, two out of 5. */
export const REVIEW_CRITERIA = [
  { nameZh: '创新性与科学价值', nameEn: 'Novelty and scientific value', weight: 35, scaleMax: 10 },
  { nameZh: '研究方案可行性', nameEn: 'Feasibility of the research plan', weight: 25, scaleMax: 10 },
  { nameZh: '跨省市协同攻关', nameEn: 'Cross-province collaboration', weight: 25, scaleMax: 5 },
  { nameZh: '团队与条件保障', nameEn: 'Team and resources', weight: 15, scaleMax: 5 },
];

/** Pledges per province, in 万元. */
export const REVIEW_PLEDGES_WAN: Record<string, number> = { SH: 3000, JS: 2500, ZJ: 2500, AH: 1500 };

export type Band = 'high' | 'mid' | 'low';

/** Comments to the applicant (shown to them after the decision), by the reviewer's judgement. */
export const COMMENTS_TO_APPLICANT: Record<Band, string[]> = {
  high: [
    '选题紧扣长三角一体化发展的重大需求，研究问题提炼清晰，创新点突出。研究方案设计合理，技术路线可行，跨省市合作分工明确。',
    '项目立意新颖，理论与应用价值兼具。团队前期积累扎实，牵头单位与合作单位优势互补，预期成果具有较强的示范推广价值。',
    '研究内容系统完整，数据来源可靠，方法先进。建议在实施过程中进一步加强三省一市数据的共享与互认。',
  ],
  mid: [
    '选题有一定意义，研究基础较好，但研究内容偏多、重点不够突出，建议聚焦核心科学问题，压缩次要内容。',
    '技术路线总体可行，但关键方法的适用性论证不足，跨省市合作单位的具体任务分工和经费安排需进一步细化。',
    '项目具有一定应用前景，但创新性论述不够充分，与国内外已有研究的区别需要更清楚地说明。',
  ],
  low: [
    '研究目标过于宽泛，科学问题不明确，研究方案与预期目标之间缺乏对应关系，可行性存疑。',
    '申报书对研究现状的梳理不够，创新点不清晰；合作单位的参与较为形式化，跨省市协同的必要性论证不足。',
    '研究方法较为常规，缺少关键技术难点的解决思路，预算编制与研究任务匹配度不高。',
  ],
};

/** Confidential comments (read by officers only). */
export const CONFIDENTIAL_COMMENTS: Record<Band, string[]> = {
  high: ['强烈推荐资助，建议作为重点项目予以支持。', '团队实力强，建议优先资助。', '本项目是本批次中较为突出的申请之一。'],
  mid: ['可以资助，但建议适当核减预算并要求调整研究内容。', '建议在答辩环节重点考察合作单位的实际投入。', '水平中等，视经费情况决定。'],
  low: ['不建议资助。', '申报书与该团队此前承担的项目内容重复度较高，建议核查。', '合作单位参与度低，联合申报的实质性不足，不建议资助。'],
};

/** Why the one declined invitation was declined. */
export const DECLINE_REASON = '评审期间需赴外地开展调研，时间冲突，无法按期完成评审。';
