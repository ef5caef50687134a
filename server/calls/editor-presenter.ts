/**
 * View model of the call editor (/calls/new and /calls/:id/edit): the main settings form with typed values
 * kept, the small row forms (topics, criteria, budget categories, attachment kinds), pledges, the publish
 * checklist and the lifecycle buttons. Every form's errors and echoed values come in through `EditorForms`.
 */
import type { Actor } from '../platform/policy.js';
import type { FieldErrors } from '../platform/forms.js';
import { toShanghaiLocal } from '../platform/time.js';
import { INSTITUTION_TYPES } from '../people/rules.js';
import { Programme } from './models.js';
import { CALL_TRANSITIONS, DEFAULT_RULES, FILE_TYPES, FUNDING_MODES, type CallStatus } from './rules.js';
import { readAttachmentKinds, readBudgetCategories, readRules } from './schema.js';
import { fenToInput, pledgeRows, type CallData } from './presenters.js';

export interface FormState {
  values?: Record<string, string>;
  errors?: FieldErrors;
  /** Repeated checkboxes as sent (leadInstitutionTypes, kindTypes). */
  checked?: string[];
}

export interface EditorForms {
  settings?: FormState;
  topic?: FormState;
  /** Errors of one existing topic row being edited. */
  topicEdit?: FormState & { id: number };
  criterion?: FormState;
  category?: FormState;
  kind?: FormState;
  pledge?: FormState & { province: string };
  deadline?: FormState;
  problems?: string[];
}

/** The settings of a saved call as form strings. */
export function settingsValues(c: CallData['call']): Record<string, string> {
  const r = readRules(c.rulesJson);
  return {
    programmeId: String(c.programmeId),
    programmeName: '',
    programmeNameEn: '',
    titleZh: c.titleZh,
    titleEn: c.titleEn ?? '',
    bodyZh: c.bodyZh,
    bodyEn: c.bodyEn ?? '',
    opensAt: toShanghaiLocal(c.opensAt),
    deadlineAt: toShanghaiLocal(c.deadlineAt),
    endorsementRequired: c.endorsementRequired ? '1' : '',
    endorsementDeadlineAt: toShanghaiLocal(c.endorsementDeadlineAt),
    reviewDueAt: toShanghaiLocal(c.reviewDueAt),
    decisionAt: toShanghaiLocal(c.decisionAt),
    fundingMode: c.fundingMode,
    balancingPotYuan: c.fundingMode === 'mixed' ? fenToInput(c.balancingPotFen) : '',
    reviewersPerProposal: String(c.reviewersPerProposal),
    noExpertFromLeadProvince: c.noExpertFromLeadProvince ? '1' : '',
    ...rulesValues(r),
  };
}

function rulesValues(r: typeof DEFAULT_RULES): Record<string, string> {
  return {
    minProvinces: String(r.minProvinces),
    minPartners: String(r.minPartners),
    maxPartners: String(r.maxPartners),
    maxTotalRequestYuan: fenToInput(r.maxTotalRequestFen),
    maxPerPartnerYuan: fenToInput(r.maxPerPartnerFen),
    minDurationMonths: String(r.minDurationMonths),
    maxDurationMonths: String(r.maxDurationMonths),
    minEnterpriseSelfFundingPct: String(r.minEnterpriseSelfFundingPct),
    maxActivePerPi: String(r.maxActivePerPi),
  };
}

/** A new call's form: the default rules prefilled. */
export function newCallValues(): Record<string, string> {
  return { fundingMode: 'virtual', reviewersPerProposal: '3', ...rulesValues(DEFAULT_RULES) };
}

const options = <T extends string>(all: readonly T[], chosen: string[]) => all.map((value) => ({ value, checked: chosen.includes(value) }));

export async function programmeOptions(selected: string) {
  const rows = await Programme.findAll({ attributes: ['id', 'nameZh', 'nameEn'], order: [['nameZh', 'ASC']], raw: true });
  return rows.map((p) => ({ id: p.id, nameZh: p.nameZh, nameEn: p.nameEn ?? '', selected: String(p.id) === selected }));
}

/** The editor of a new call (no rows yet). */
export async function newEditorView(forms: EditorForms) {
  const values = forms.settings?.values ?? newCallValues();
  return {
    isNew: true,
    values,
    errors: forms.settings?.errors ?? {},
    programmes: await programmeOptions(values.programmeId ?? ''),
    fundingModes: FUNDING_MODES.map((value) => ({ value, selected: (values.fundingMode ?? 'virtual') === value })),
    leadTypes: options(INSTITUTION_TYPES, forms.settings?.checked ?? []),
    endorsementRequired: !!values.endorsementRequired,
    noExpertFromLeadProvince: !!values.noExpertFromLeadProvince,
  };
}

/** The editor of a saved call: settings (only in draft), rows, pledges, checklist, lifecycle. */
export async function editorView(d: CallData, actor: Actor, lang: string, forms: EditorForms) {
  const c = d.call;
  const status = c.status as CallStatus;
  const draft = status === 'draft';
  const values = forms.settings?.values ?? settingsValues(c);
  const lead = forms.settings?.checked ?? readRules(c.rulesJson).leadInstitutionTypes;
  const kinds = readAttachmentKinds(c.attachmentKindsJson);
  const pledges = pledgeRows(d, actor, lang);
  const pledgeForm = forms.pledge;
  const weightSum = d.criteria.reduce((a, x) => a + x.weight, 0);
  return {
    isNew: false,
    id: c.id,
    status,
    draft,
    title: lang === 'en' && c.titleEn ? c.titleEn : c.titleZh,
    values,
    errors: forms.settings?.errors ?? {},
    programmes: await programmeOptions(values.programmeId ?? ''),
    fundingModes: FUNDING_MODES.map((value) => ({ value, selected: values.fundingMode === value })),
    leadTypes: options(INSTITUTION_TYPES, lead),
    endorsementRequired: !!values.endorsementRequired,
    noExpertFromLeadProvince: !!values.noExpertFromLeadProvince,
    topics: d.topics.map((x) => {
      const editing = forms.topicEdit?.id === x.id ? forms.topicEdit : null;
      const v = editing?.values;
      return {
        id: x.id,
        code: v?.topicCode ?? x.code,
        titleZh: v?.topicTitleZh ?? x.titleZh,
        titleEn: v?.topicTitleEn ?? x.titleEn ?? '',
        description: v?.topicDescription ?? x.description ?? '',
        errors: editing?.errors ?? {},
      };
    }),
    topicForm: { values: forms.topic?.values ?? {}, errors: forms.topic?.errors ?? {} },
    criteria: d.criteria,
    weightSum,
    weightsOk: weightSum === 100,
    criterionForm: { values: forms.criterion?.values ?? { criterionScale: '10' }, errors: forms.criterion?.errors ?? {} },
    categories: readBudgetCategories(c.budgetCategoriesJson),
    categoryForm: { values: forms.category?.values ?? {}, errors: forms.category?.errors ?? {} },
    kinds: kinds.map((k) => ({ ...k, typesText: k.types.map((x) => x.toUpperCase()).join(', '), maxMb: Math.round(k.maxBytes / 1048576) })),
    kindForm: {
      values: forms.kind?.values ?? { kindMaxMb: '20' },
      errors: forms.kind?.errors ?? {},
      types: options(FILE_TYPES, forms.kind?.checked ?? ['pdf']),
      required: forms.kind ? !!forms.kind.values?.kindRequired : true,
    },
    pledges: {
      ...pledges,
      rows: pledges.rows.map((r) => ({
        ...r,
        input: pledgeForm?.province === r.code ? (pledgeForm.values?.amountYuan ?? r.input) : r.input,
        error: pledgeForm?.province === r.code ? (pledgeForm.errors?.amountYuan ?? '') : '',
      })),
      canEditAny: pledges.rows.some((r) => r.editable),
    },
    problems: forms.problems ?? [],
    transitions: CALL_TRANSITIONS[status].map((to) => ({ to })),
    deadlineForm: {
      values: forms.deadline?.values ?? { newDeadlineAt: toShanghaiLocal(c.deadlineAt), newEndorsementDeadlineAt: toShanghaiLocal(c.endorsementDeadlineAt) },
      errors: forms.deadline?.errors ?? {},
    },
    canExtend: status === 'published',
    callEndorsementRequired: !!c.endorsementRequired,
    dates: { opensAt: c.opensAt, deadlineAt: c.deadlineAt, endorsementDeadlineAt: c.endorsementRequired ? c.endorsementDeadlineAt : null, reviewDueAt: c.reviewDueAt, decisionAt: c.decisionAt },
  };
}
