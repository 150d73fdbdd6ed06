// Client-side checks that mirror the admin API's rules, so an operator sees a mistake next to the
// field before the round trip. The server stays the authority: its `fields` are shown the same way.
import type { FieldErrors } from '../api/client';

export const MIN_PASSWORD_LENGTH = 12;

export function checkRequired(errors: FieldErrors, field: string, value: string): void {
  if (!value.trim()) errors[field] = 'is required';
}

export function checkEmail(errors: FieldErrors, field: string, value: string): void {
  if (!value.trim()) {
    errors[field] = 'is required';
  } else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value.trim())) {
    errors[field] = 'must be an email address';
  }
}

export function checkPassword(errors: FieldErrors, field: string, value: string): void {
  if (value.length < MIN_PASSWORD_LENGTH) errors[field] = `must be at least ${MIN_PASSWORD_LENGTH} characters`;
}

/// Parses an optional positive integer input: undefined when blank, an error when not one.
export function parseOptionalPositiveInt(
  errors: FieldErrors,
  field: string,
  text: string,
): number | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  if (!/^\d+$/.test(trimmed) || Number(trimmed) < 1 || !Number.isSafeInteger(Number(trimmed))) {
    errors[field] = 'must be a positive whole number';
    return undefined;
  }
  return Number(trimmed);
}

/// An integer within [min, max].
export function parseIntInRange(
  errors: FieldErrors,
  field: string,
  text: string,
  min: number,
  max: number,
): number | undefined {
  const trimmed = text.trim();
  if (!/^-?\d+$/.test(trimmed)) {
    errors[field] = `must be a whole number between ${min} and ${max}`;
    return undefined;
  }
  const value = Number(trimmed);
  if (value < min || value > max) {
    errors[field] = `must be a whole number between ${min} and ${max}`;
    return undefined;
  }
  return value;
}

/// A comma- or newline-separated list, trimmed, blanks dropped.
export function parseList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/// A `datetime-local` input value (browser's zone) as an ISO-8601 UTC time, or an error when it
/// is not in the future. Blank is undefined.
export function parseFutureLocalDateTime(
  errors: FieldErrors,
  field: string,
  text: string,
  now: number,
): string | undefined {
  if (!text.trim()) return undefined;
  const at = new Date(text);
  if (!Number.isFinite(at.getTime())) {
    errors[field] = 'must be a date and time';
    return undefined;
  }
  if (at.getTime() <= now) {
    errors[field] = 'must be in the future';
    return undefined;
  }
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/// Reads a JSON document typed into a textarea; an error names the field when it does not parse.
export function parseJsonField(errors: FieldErrors, field: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    errors[field] = 'must be valid JSON';
    return undefined;
  }
}

export function hasErrors(errors: FieldErrors): boolean {
  return Object.keys(errors).length > 0;
}
