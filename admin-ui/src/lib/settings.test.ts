import { describe, expect, it } from 'vitest';

import type { Setting } from '../api/types';
import { settingDraft, settingValue } from './settings';

const base = { description: 'd', source: 'default', secret: false };

describe('settings forms', () => {
  it('sends integers as numbers within their bounds', () => {
    const setting: Setting = { ...base, key: 'gateway.circuit_open_seconds', type: 'integer', value: 60, min: 1, max: 3600 };
    expect(settingDraft(setting)).toBe('60');
    expect(settingValue(setting, ' 90 ')).toEqual({ value: 90 });
    expect(settingValue(setting, '0')).toEqual({ error: 'must be at least 1' });
    expect(settingValue(setting, '4000')).toEqual({ error: 'must be at most 3600' });
    expect(settingValue(setting, '1.5')).toEqual({ error: 'must be a whole number' });
  });

  it('edits string lists one per line', () => {
    const setting: Setting = { ...base, key: 'ingress.trusted_proxies', type: 'string_list', value: ['10.0.0.0/8', '127.0.0.1'] };
    expect(settingDraft(setting)).toBe('10.0.0.0/8\n127.0.0.1');
    expect(settingValue(setting, '10.0.0.0/8\n\n 192.168.0.0/16 ')).toEqual({ value: ['10.0.0.0/8', '192.168.0.0/16'] });
  });

  it('edits tables as JSON and reports JSON that does not parse', () => {
    const setting: Setting = { ...base, key: 'gateway.bulkheads', type: 'bulkhead_table', value: { a: { max_concurrency: 4 } } };
    expect(JSON.parse(settingDraft(setting))).toEqual({ a: { max_concurrency: 4 } });
    expect(settingValue(setting, '{"a":{"max_concurrency":8}}')).toEqual({ value: { a: { max_concurrency: 8 } } });
    expect(settingValue(setting, '{a')).toEqual({ error: 'must be valid JSON' });
  });

  it('never shows a secret and starts it blank', () => {
    const setting: Setting = { ...base, key: 'metrics.bearer_token', type: 'string', secret: true, configured: true };
    expect(settingDraft(setting)).toBe('');
    expect(settingValue(setting, 'new-token')).toEqual({ value: 'new-token' });
  });
});
