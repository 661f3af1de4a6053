/** A local chat-completions server for the OpenAI model tests, and builders for what it answers. */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the server answers with: `body` as JSON, after `delayMs` if set. */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
  delayMs?: number;
}

/** A request as the server received it. */
export interface ReceivedRequest {
  method?: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body. */
  body: unknown;
  /** When the request had fully arrived (`Date.now()`). */
  at: number;
}

/** A running server: its `http://127.0.0.1:<port>` origin, and `close`, which also drops open connections. */
export interface ChatCompletionsServer {
  origin: string;
  close(): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1 (a free port) that hands each request to `answer` and sends the reply
 * it returns. A delayed reply is dropped if the client disconnects first.
 */
export async function startChatCompletionsServer(answer: (request: ReceivedRequest) => Reply): Promise<ChatCompletionsServer> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const { status, headers, body, delayMs } = answer({
      method: req.method,
      url: req.url ?? '',
      headers: req.headers,
      body: JSON.parse(Buffer.concat(chunks).toString()),
      at: Date.now(),
    });
    const timer = setTimeout(() => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    }, delayMs ?? 0);
    res.on('close', () => clearTimeout(timer));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/**
 * A successful chat completion whose single choice is an assistant `message`.
 *
 * @param message - Fields of the assistant message (`content`, `tool_calls`, ...).
 * @param finishReason - The choice's `finish_reason`.
 */
export function completion(message: Record<string, unknown>, finishReason = 'stop'): Reply {
  return {
    status: 200,
    body: {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'test-model',
      choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finishReason }],
    },
  };
}

/**
 * An OpenAI-style error response.
 *
 * @param status - The HTTP status.
 * @param message - The error's message.
 * @param headers - Extra response headers, such as `retry-after`.
 */
export function apiError(status: number, message: string, headers?: Record<string, string>): Reply {
  return { status, headers, body: { error: { message, type: 'invalid_request_error', code: null, param: null } } };
}
