import { describe, expect, it } from 'vitest';

import { ApiError, errorFromBody, readCookie, toQuery } from './client';

describe('admin API client helpers', () => {
  it('reads validation errors with their fields from the envelope', () => {
    const error = errorFromBody(422, {
      error: {
        code: 'validation_failed',
        message: 'Validation failed: ring_size must be an integer between 1 and 64',
        param: 'ring_size',
        type: 'invalid_request_error',
        fields: { ring_size: 'must be an integer between 1 and 64', bogus: 42 },
      },
    });
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(422);
    expect(error.code).toBe('validation_failed');
    expect(error.param).toBe('ring_size');
    expect(error.fields).toEqual({ ring_size: 'must be an integer between 1 and 64' });
  });

  it('makes a readable error of a body that is not the envelope', () => {
    const error = errorFromBody(502, '<html>bad gateway</html>');
    expect(error.code).toBe('error');
    expect(error.message).toBe('Request failed (502)');
    expect(error.fields).toEqual({});
  });

  it('finds a cookie among others and decodes it', () => {
    expect(readCookie('a=1; cxp_csrf=abc%3D; b=2', 'cxp_csrf')).toBe('abc=');
    expect(readCookie('cxp_csrf_other=x', 'cxp_csrf')).toBeNull();
    expect(readCookie('', 'cxp_csrf')).toBeNull();
  });

  it('builds query strings without empty filters', () => {
    expect(toQuery({ pool_id: 'p1', status: '', cursor: null, limit: 50, model: undefined })).toBe('?pool_id=p1&limit=50');
    expect(toQuery({ model: 'gpt 5/x' })).toBe('?model=gpt+5%2Fx');
    expect(toQuery({})).toBe('');
  });
});
