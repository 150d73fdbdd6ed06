import { describe, expect, it } from 'vitest';

import { authJsonProblem } from './files';

describe('auth.json pre-checks', () => {
  it('accepts a document with tokens and names what is wrong otherwise', () => {
    expect(authJsonProblem(JSON.stringify({ tokens: { access_token: 'a' } }))).toBeNull();
    expect(authJsonProblem('{')).toBe('is not JSON');
    expect(authJsonProblem('[1]')).toBe('is not a JSON object');
    expect(authJsonProblem(JSON.stringify({ OPENAI_API_KEY: 'sk-x' }))).toBe('has no tokens (an API-key-only auth.json cannot be pooled)');
  });
});
