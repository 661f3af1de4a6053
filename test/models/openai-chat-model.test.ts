import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { APIUserAbortError } from 'openai';
import type { ChatMessage, ToolSchema } from '../../src/core';
import type { ChatModelRequest } from '../../src/models/chat-model';
import { ModelRequestRejectedError, ModelUnavailableError } from '../../src/models/model-errors';
import { OpenAIChatModel } from '../../src/models/openai-chat-model';
import {
  apiError,
  completion,
  startChatCompletionsServer,
  type ChatCompletionsServer,
  type ReceivedRequest,
  type Reply,
} from './chat-completions-server';

const API_KEY = 'sk-test-key';

let server: ChatCompletionsServer;
let baseURL: string;
/** What the server received in the current test. */
let received: ReceivedRequest[];
/** What the server answers with next. */
let reply: Reply;

/** A port nothing listens on: a server's port, after it closed. */
async function closedPort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  probe.close();
  await once(probe, 'close');
  return port;
}

function request(overrides: Partial<ChatModelRequest> = {}): ChatModelRequest {
  return {
    instructions: 'You are a file assistant.',
    messages: [{ role: 'user', content: 'Hello' }],
    tools: [],
    threadId: 'thread-1',
    turn: 1,
    ...overrides,
  };
}

function model(options: { timeoutMs?: number } = {}): OpenAIChatModel {
  return new OpenAIChatModel({ apiKey: API_KEY, baseURL, model: 'test-model', ...options });
}

const deleteFileTool: ToolSchema = {
  name: 'delete_file',
  description: 'Deletes a file.',
  parameters: {
    type: 'object',
    properties: { path: { type: 'string' } },
    required: ['path'],
    additionalProperties: false,
  },
};

beforeAll(async () => {
  server = await startChatCompletionsServer((req) => {
    received.push(req);
    return reply;
  });
  baseURL = `${server.origin}/v1`;
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  received = [];
});

describe('OpenAIChatModel', () => {
  it('is named after its model', () => {
    expect(new OpenAIChatModel({ apiKey: API_KEY, model: 'gpt-4.1' }).name).toBe('openai:gpt-4.1');
  });

  it('sends the instructions, the conversation and the tools in the chat-completions format', async () => {
    reply = completion({ content: 'Deleted.' });
    const messages: ChatMessage[] = [
      { role: 'user', content: 'Delete notes.txt' },
      {
        role: 'assistant',
        content: '',
        toolCalls: [{ id: 'call_1', name: 'delete_file', arguments: '{"path":"notes.txt"}' }],
      },
      { role: 'tool', toolCallId: 'call_1', name: 'delete_file', content: 'deleted notes.txt' },
      { role: 'assistant', content: 'Done.' },
      { role: 'user', content: 'Thanks' },
    ];

    await model().complete(request({ messages, tools: [deleteFileTool] }));

    expect(received).toHaveLength(1);
    const [{ method, url, headers, body }] = received;
    expect(method).toBe('POST');
    expect(url).toBe('/v1/chat/completions');
    expect(headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(body).toEqual({
      model: 'test-model',
      messages: [
        { role: 'system', content: 'You are a file assistant.' },
        { role: 'user', content: 'Delete notes.txt' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'delete_file', arguments: '{"path":"notes.txt"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'deleted notes.txt' },
        { role: 'assistant', content: 'Done.' },
        { role: 'user', content: 'Thanks' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'delete_file',
            description: 'Deletes a file.',
            parameters: {
              type: 'object',
              properties: { path: { type: 'string' } },
              required: ['path'],
              additionalProperties: false,
            },
          },
        },
      ],
    });
  });

  it('omits tools when the agent has none and sends the temperature when set', async () => {
    reply = completion({ content: 'Hi' });

    await new OpenAIChatModel({ apiKey: API_KEY, baseURL, model: 'test-model', temperature: 0.2 }).complete(request());

    expect(received[0].body).toEqual({
      model: 'test-model',
      messages: [
        { role: 'system', content: 'You are a file assistant.' },
        { role: 'user', content: 'Hello' },
      ],
      temperature: 0.2,
    });
  });

  it('maps tool calls of the response to toolCalls with the raw arguments', async () => {
    reply = completion(
      {
        content: null,
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'delete_file', arguments: '{"path": "a.txt"}' } },
          { id: 'call_b', type: 'function', function: { name: 'delete_file', arguments: '{"path":"b.txt"}' } },
        ],
      },
      'tool_calls',
    );

    const message = await model().complete(request({ tools: [deleteFileTool] }));

    expect(message).toEqual({
      role: 'assistant',
      content: '',
      toolCalls: [
        { id: 'call_a', name: 'delete_file', arguments: '{"path": "a.txt"}' },
        { id: 'call_b', name: 'delete_file', arguments: '{"path":"b.txt"}' },
      ],
    });
  });

  it('maps a plain-text answer', async () => {
    reply = completion({ content: 'Hello! How can I help?' });

    await expect(model().complete(request())).resolves.toEqual({ role: 'assistant', content: 'Hello! How can I help?' });
  });

  it('treats a response without choices as unavailable', async () => {
    reply = { status: 200, body: { id: 'chatcmpl-1', object: 'chat.completion', choices: [] } };

    await expect(model().complete(request())).rejects.toBeInstanceOf(ModelUnavailableError);
  });

  describe('errors', () => {
    it('rejects a request with a bad key (401)', async () => {
      reply = apiError(401, 'Incorrect API key provided.');

      const err = await model().complete(request()).catch((e: unknown) => e);

      expect(err).toBeInstanceOf(ModelRequestRejectedError);
      expect(err).toMatchObject({
        name: 'ModelRequestRejected',
        status: 401,
        message: 'OpenAI request rejected (401): Incorrect API key provided.',
      });
    });

    it('rejects an invalid request (400)', async () => {
      reply = apiError(400, "Invalid schema for function 'delete_file'.");

      await expect(model().complete(request())).rejects.toMatchObject({
        name: 'ModelRequestRejected',
        status: 400,
        message: "OpenAI request rejected (400): Invalid schema for function 'delete_file'.",
      });
    });

    it('reports a rate limit (429) as unavailable with the retry-after delay', async () => {
      reply = apiError(429, 'Rate limit reached.', { 'retry-after': '7' });

      const err = await model().complete(request()).catch((e: unknown) => e);

      expect(err).toBeInstanceOf(ModelUnavailableError);
      expect(err).toMatchObject({
        name: 'ModelUnavailable',
        status: 429,
        retryAfterMs: 7000,
        message: 'OpenAI unavailable (429): Rate limit reached.',
      });
      expect(received).toHaveLength(1);
    });

    it('reports an overloaded server (503) as unavailable, honouring retry-after-ms', async () => {
      reply = apiError(503, 'The server is overloaded.', { 'retry-after-ms': '1500' });

      await expect(model().complete(request())).rejects.toMatchObject({
        name: 'ModelUnavailable',
        status: 503,
        retryAfterMs: 1500,
      });
      expect(received).toHaveLength(1);
    });

    it('reports a refused connection as unavailable', async () => {
      const port = await closedPort();
      const unreachable = new OpenAIChatModel({ apiKey: API_KEY, baseURL: `http://127.0.0.1:${port}/v1`, model: 'm' });

      const err = await unreachable.complete(request()).catch((e: unknown) => e);

      expect(err).toBeInstanceOf(ModelUnavailableError);
      expect(err).toMatchObject({ name: 'ModelUnavailable', status: undefined });
      expect((err as Error).message).toMatch(/^OpenAI unreachable at http:\/\/127\.0\.0\.1:\d+\/v1: .*ECONNREFUSED/);
    });

    it('reports a timeout as unavailable', async () => {
      reply = { ...completion({ content: 'too late' }), delayMs: 2_000 };

      await expect(model({ timeoutMs: 100 }).complete(request())).rejects.toMatchObject({
        name: 'ModelUnavailable',
        message: expect.stringMatching(/^OpenAI unreachable at /),
      });
    });

    it('rethrows an abort as it is', async () => {
      await expect(model().complete(request({ signal: AbortSignal.abort() }))).rejects.toBeInstanceOf(APIUserAbortError);
    });
  });

  describe('fromEnv', () => {
    it('is undefined without a key or a base URL', () => {
      expect(OpenAIChatModel.fromEnv({})).toBeUndefined();
      expect(OpenAIChatModel.fromEnv({ OPENAI_MODEL: 'gpt-4.1' })).toBeUndefined();
    });

    it('uses OPENAI_MODEL, defaulting to gpt-4o-mini', () => {
      expect(OpenAIChatModel.fromEnv({ OPENAI_API_KEY: API_KEY })?.name).toBe('openai:gpt-4o-mini');
      expect(OpenAIChatModel.fromEnv({ OPENAI_API_KEY: API_KEY, OPENAI_MODEL: 'gpt-4.1' })?.name).toBe('openai:gpt-4.1');
    });

    it('talks to a local server with only a base URL, sending a placeholder key', async () => {
      reply = completion({ content: 'Hi from a local model' });

      const local = OpenAIChatModel.fromEnv({ OPENAI_BASE_URL: baseURL, OPENAI_MODEL: 'llama3.2' });
      const message = await local?.complete(request());

      expect(message).toEqual({ role: 'assistant', content: 'Hi from a local model' });
      expect(received[0].headers.authorization).toBe('Bearer unused');
      expect(received[0].body).toMatchObject({ model: 'llama3.2' });
    });
  });
});
