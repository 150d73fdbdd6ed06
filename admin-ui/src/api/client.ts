// The typed admin-API client: the only place the dashboard calls fetch(). Every state-changing
// call carries the CSRF token (docs/admin-api.md, Conventions); errors become ApiError with the
// envelope's code, message and per-field messages.

export type FieldErrors = Record<string, string>;

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly param: string | null;
  readonly fields: FieldErrors;

  constructor(status: number, code: string, message: string, param: string | null = null, fields: FieldErrors = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.param = param;
    this.fields = fields;
  }
}

/// Builds an ApiError from a response body that may or may not be the error envelope.
export function errorFromBody(status: number, body: unknown): ApiError {
  if (typeof body === 'object' && body !== null && 'error' in body) {
    const envelope = (body as { error: unknown }).error;
    if (typeof envelope === 'object' && envelope !== null) {
      const e = envelope as Record<string, unknown>;
      const fields: FieldErrors = {};
      if (typeof e.fields === 'object' && e.fields !== null) {
        for (const [name, text] of Object.entries(e.fields as Record<string, unknown>)) {
          if (typeof text === 'string') fields[name] = text;
        }
      }
      return new ApiError(
        status,
        typeof e.code === 'string' ? e.code : 'error',
        typeof e.message === 'string' ? e.message : `Request failed (${status})`,
        typeof e.param === 'string' ? e.param : null,
        fields,
      );
    }
  }
  return new ApiError(status, status === 0 ? 'network_error' : 'error', `Request failed (${status || 'network error'})`);
}

export const CSRF_COOKIE = 'cxp_csrf';

/// The value of cookie `name` in a `document.cookie` string.
export function readCookie(cookieHeader: string, name: string): string | null {
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

/// Query string from a filter object: empty and undefined values are left out.
export function toQuery(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

async function ensureCsrfToken(): Promise<string> {
  const existing = readCookie(document.cookie, CSRF_COOKIE);
  if (existing) return existing;
  // Anonymous steps (bootstrap, login, invite acceptance) use the double-submit cookie that
  // /bootstrap/status hands out.
  const status = await request<{ csrf_token: string }>('GET', '/bootstrap/status');
  return readCookie(document.cookie, CSRF_COOKIE) ?? status.csrf_token;
}

export async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = await ensureCsrfToken();
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError(0, 'network_error', 'The gateway could not be reached. Check that it is running.');
  }
  const text = await response.text();
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!response.ok) throw errorFromBody(response.status, parsed);
  return parsed as T;
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body: unknown = {}) => request<T>('POST', path, body),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  put: <T>(path: string, body: unknown = {}) => request<T>('PUT', path, body),
  del: <T>(path: string, body?: unknown) => request<T>('DELETE', path, body),
};
