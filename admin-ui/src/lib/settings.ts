// Settings are edited as text and sent typed: integers as numbers, lists as arrays, tables as
// JSON. A blank secret means "leave it as it is".
import type { Setting } from '../api/types';

/// The text an input starts with for `setting`.
export function settingDraft(setting: Setting): string {
  if (setting.secret) return '';
  const value = setting.value;
  if (value === null || value === undefined) return '';
  if (setting.type === 'string_list' && Array.isArray(value)) return value.join('\n');
  if (typeof value === 'object') return JSON.stringify(value, null, 2);
  return String(value);
}

/// The JSON value to PATCH for `draft`, or why it is not one.
export function settingValue(setting: Setting, draft: string): { value: unknown } | { error: string } {
  switch (setting.type) {
    case 'integer': {
      const text = draft.trim();
      if (!/^-?\d+$/.test(text)) return { error: 'must be a whole number' };
      const value = Number(text);
      if (setting.min !== undefined && value < setting.min) return { error: `must be at least ${setting.min}` };
      if (setting.max !== undefined && value > setting.max) return { error: `must be at most ${setting.max}` };
      return { value };
    }
    case 'boolean':
      return { value: draft === 'true' };
    case 'string_list':
      return { value: draft.split('\n').map((line) => line.trim()).filter(Boolean) };
    case 'string':
      if (setting.secret && !draft) return { value: null };
      return { value: draft };
    default:
      try {
        return { value: JSON.parse(draft) as unknown };
      } catch {
        return { error: 'must be valid JSON' };
      }
  }
}
