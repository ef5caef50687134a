/**
 * Form handling: validate a body with zod into typed values, or into per-field error keys (i18n) while
 * keeping what was typed, so the page can show each message next to its field.
 */
import type { z } from 'zod';

export type FieldErrors = Record<string, string>;

export type FormResult<T> = { ok: true; data: T } | { ok: false; errors: FieldErrors; values: Record<string, string> };

/** Only string fields are echoed back; anything else (arrays, objects) is dropped. Secrets are never echoed. */
export function echo(body: unknown, omit: string[] = ['password', 'currentPassword', 'newPassword', 'confirmPassword', '_csrf']): Record<string, string> {
  const out: Record<string, string> = {};
  if (body && typeof body === 'object') {
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
      if (typeof v === 'string' && !omit.includes(k) && k !== '__proto__') out[k] = v.slice(0, 5000);
    }
  }
  return out;
}

/**
 * A schema's own message is a locale key ('ns:path.to.key'). Anything else is zod's built-in English text
 * ("Invalid input: expected number, received NaN"), which must not reach a page: it becomes the generic message.
 */
const LOCALE_KEY = /^[a-z][A-Za-z0-9-]*:[A-Za-z0-9_.-]+$/;

export function parseForm<S extends z.ZodType>(schema: S, body: unknown): FormResult<z.infer<S>> {
  const r = schema.safeParse(body ?? {});
  if (r.success) return { ok: true, data: r.data };
  const errors: FieldErrors = {};
  for (const issue of r.error.issues) {
    const field = String(issue.path[0] ?? '_form');
    if (!errors[field]) errors[field] = LOCALE_KEY.test(issue.message) ? issue.message : 'common:form.invalid';
  }
  return { ok: false, errors, values: echo(body) };
}
