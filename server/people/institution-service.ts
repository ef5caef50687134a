/** Institutions (单位): the registry every user, partner and expert points at. */
import { Institution, Province } from './models.js';

export interface InstitutionOption {
  id: number;
  label: string;
  selected: boolean;
}
export interface ProvinceGroup {
  province: string;
  options: InstitutionOption[];
}

/** The institution picker: institutions grouped by province, in the page's language. */
export async function institutionOptions(lang: string, selectedId?: string | number | null): Promise<ProvinceGroup[]> {
  const [provinces, institutions] = await Promise.all([
    Province.findAll({ order: [['sortOrder', 'ASC']], raw: true }),
    Institution.findAll({ attributes: ['id', 'nameZh', 'nameEn', 'provinceCode'], order: [['nameZh', 'ASC']], raw: true }),
  ]);
  const sel = selectedId ? Number(selectedId) : null;
  return provinces.map((p) => ({
    province: lang === 'en' ? p.nameEn : p.nameZh,
    options: institutions
      .filter((i) => i.provinceCode === p.code)
      .map((i) => ({ id: i.id, label: lang === 'en' && i.nameEn ? i.nameEn : i.nameZh, selected: i.id === sel })),
  }));
}
