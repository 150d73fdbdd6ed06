// Helpers for the /mcp end-to-end tests: an operator session over the admin API (cookie and
// CSRF token), and raw JSON-RPC posts to /mcp for the refusals the SDK turns into exceptions.

/// An operator logged in over the JSON admin API.
export class AdminSession {
  constructor(baseUrl) {
    this.baseUrl = baseUrl;
    this.cookies = new Map();
    this.csrf = '';
  }

  absorb(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }

  async request(method, path, body) {
    const headers = { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
    if (this.csrf) headers['x-csrf-token'] = this.csrf;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    this.absorb(response);
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  /// Asserts a 2xx and returns the body.
  async ok(method, path, body) {
    const answer = await this.request(method, path, body);
    if (answer.status < 200 || answer.status >= 300) {
      throw new Error(`${method} ${path} -> ${answer.status}: ${JSON.stringify(answer.body)}`);
    }
    return answer.body;
  }

  static async login(baseUrl, email, password) {
    const session = new AdminSession(baseUrl);
    const status = await session.ok('GET', '/bootstrap/status');
    session.csrf = status.csrf_token;
    const login = await session.ok('POST', '/admin/api/session', { email, password });
    session.csrf = login.csrf_token;
    session.user = login.user;
    return session;
  }
}

/// POSTs one JSON-RPC message to /mcp with `token` (none when undefined) and answers
/// `{status, headers, body}`.
export async function postMcp(baseUrl, token, message, extraHeaders = {}) {
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    ...extraHeaders,
  };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${baseUrl}/mcp`, {
    method: 'POST',
    headers,
    body: typeof message === 'string' ? message : JSON.stringify(message),
  });
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: response.status, headers: response.headers, body };
}

export const PING = { jsonrpc: '2.0', id: 1, method: 'ping' };
