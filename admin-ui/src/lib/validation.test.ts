import { describe, expect, it } from 'vitest';

import type { FieldErrors } from '../api/client';
import {
  checkEmail,
  checkPassword,
  checkRequired,
  hasErrors,
  parseFutureLocalDateTime,
  parseIntInRange,
  parseJsonField,
  parseList,
  parseOptionalPositiveInt,
} from './validation';

describe('form validation', () => {
  it('requires non-blank text', () => {
    const errors: FieldErrors = {};
    checkRequired(errors, 'name', '   ');
    checkRequired(errors, 'other', 'x');
    expect(errors).toEqual({ name: 'is required' });
    expect(hasErrors(errors)).toBe(true);
  });

  it('checks emails', () => {
    const errors: FieldErrors = {};
    checkEmail(errors, 'a', '');
    checkEmail(errors, 'b', 'owner');
    checkEmail(errors, 'c', 'owner@example.com');
    expect(errors).toEqual({ a: 'is required', b: 'must be an email address' });
  });

  it('asks for passwords of at least 12 characters, like the API', () => {
    const errors: FieldErrors = {};
    checkPassword(errors, 'short', 'eleven-char');
    checkPassword(errors, 'long', 'twelve-chars');
    expect(Object.keys(errors)).toEqual(['short']);
  });

  it('reads optional positive integers without coercing text', () => {
    const errors: FieldErrors = {};
    expect(parseOptionalPositiveInt(errors, 'blank', ' ')).toBeUndefined();
    expect(parseOptionalPositiveInt(errors, 'ok', '60')).toBe(60);
    expect(parseOptionalPositiveInt(errors, 'zero', '0')).toBeUndefined();
    expect(parseOptionalPositiveInt(errors, 'fraction', '1.5')).toBeUndefined();
    expect(parseOptionalPositiveInt(errors, 'word', 'ten')).toBeUndefined();
    expect(Object.keys(errors).sort()).toEqual(['fraction', 'word', 'zero']);
  });

  it('bounds integers to a range', () => {
    const errors: FieldErrors = {};
    expect(parseIntInRange(errors, 'ring', '3', 1, 64)).toBe(3);
    expect(parseIntInRange(errors, 'big', '65', 1, 64)).toBeUndefined();
    expect(errors.big).toBe('must be a whole number between 1 and 64');
  });

  it('splits lists on commas and newlines', () => {
    expect(parseList('gpt-5.5, gpt-5.5-mini\n\n o3 ,')).toEqual(['gpt-5.5', 'gpt-5.5-mini', 'o3']);
    expect(parseList('')).toEqual([]);
  });

  it('turns a future local time into UTC and refuses the past', () => {
    const errors: FieldErrors = {};
    const now = Date.parse('2026-12-05T10:00:00Z');
    const future = new Date(now + 86400_000);
    const local = `${future.getFullYear()}-${String(future.getMonth() + 1).padStart(2, '0')}-${String(future.getDate()).padStart(2, '0')}T${String(future.getHours()).padStart(2, '0')}:${String(future.getMinutes()).padStart(2, '0')}`;
    expect(parseFutureLocalDateTime(errors, 'expires_at', local, now)).toBe('2026-12-06T10:00:00Z');
    expect(parseFutureLocalDateTime(errors, 'past', '2020-01-01T00:00', now)).toBeUndefined();
    expect(parseFutureLocalDateTime(errors, 'blank', '', now)).toBeUndefined();
    expect(errors).toEqual({ past: 'must be in the future' });
  });

  it('reports JSON that does not parse', () => {
    const errors: FieldErrors = {};
    expect(parseJsonField(errors, 'table', '{"a":1}')).toEqual({ a: 1 });
    expect(parseJsonField(errors, 'bad', '{a:1}')).toBeUndefined();
    expect(errors).toEqual({ bad: 'must be valid JSON' });
  });
});
