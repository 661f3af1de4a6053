// The approval API as the page uses it: the token (kept for this tab only), JSON calls, and the live event stream.

const TOKEN_KEY = 'airlock.approverToken';

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  signIn(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** An API error: the HTTP status and the server's `{ error: { type, message, label? } }` (the label is the server's short name for it). */
class ApiError extends Error {
  constructor(status, type, message, label) {
    super(message);
    this.status = status;
    this.type = type;
    this.label = label;
  }
}

const authHeaders = (token = session.token) => ({ Authorization: `Bearer ${token}` });

/** Calls the API and returns the parsed body; throws `ApiError` for a non-2xx answer. */
export async function callApi(path, { method = 'GET', body, token } = {}) {
  const headers = authHeaders(token);
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'NetworkError', 'The approval service cannot be reached');
  }
  const payload = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new ApiError(response.status, payload.error?.type ?? 'HttpError', payload.error?.message ?? `HTTP ${response.status}`, payload.error?.label);
  }
  return payload;
}

/**
 * Follows `GET /api/events` (Server-Sent Events read through fetch, so the token travels in a
 * header, never in a URL), reconnecting after a drop. Returns a function that stops it.
 * `onStatus` gets 'live', 'reconnecting' or 'problem' (with a message).
 */
export function watchApprovals({ onApprovals, onStatus, onUnauthorized }) {
  let stopped = false;
  let controller;
  let retry;

  const dispatch = (block) => {
    let event = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length === 0) return;
    const payload = JSON.parse(data.join('\n'));
    if (event === 'approvals') {
      onStatus('live');
      onApprovals(payload.approvals);
    } else if (event === 'problem') onStatus('problem', payload.message);
  };

  const connect = async () => {
    controller = new AbortController();
    try {
      const response = await fetch('/api/events', { headers: authHeaders(), signal: controller.signal, cache: 'no-store' });
      if (response.status === 401) return onUnauthorized();
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, '\n');
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          dispatch(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      // A dropped connection: reconnect below.
    }
    if (stopped) return;
    onStatus('reconnecting');
    retry = setTimeout(connect, 2000);
  };

  void connect();
  return () => {
    stopped = true;
    clearTimeout(retry);
    controller?.abort();
  };
}
