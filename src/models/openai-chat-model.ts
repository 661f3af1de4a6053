import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import type {
  ChatCompletionMessage,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import type { AssistantMessage, ChatMessage, ModelTurns, ToolCall, ToolSchema } from '../core';
import type { ChatModel, ChatModelRequest } from './chat-model';
import { ModelRequestRejectedError, ModelUnavailableError } from './model-errors';

/** Options of `OpenAIChatModel`. */
export interface OpenAIChatModelOptions {
  /**
   * The API key, sent as `Authorization: Bearer <key>`. Default: a placeholder when `baseURL` is set
   * (local servers such as Ollama, vLLM or llama.cpp need none), else the SDK's `OPENAI_API_KEY`.
   */
  apiKey?: string;
  /** The API root of an OpenAI-compatible server, e.g. `http://localhost:11434/v1`. Default: OpenAI's. */
  baseURL?: string;
  /** The model name the server knows, e.g. `gpt-4o-mini`. */
  model: string;
  /** Sampling temperature. Default: the server's. */
  temperature?: number;
  /** How long one request may take, in ms. Default: the SDK's (10 minutes). */
  timeoutMs?: number;
  /**
   * A ready client, used instead of building one from `apiKey`, `baseURL` and `timeoutMs`.
   * Give it `maxRetries: 0`: Temporal's activity retry policy does the retrying.
   */
  client?: OpenAI;
  /** How threads run this model's turns (`ModelTurns`). Default `'activity'`: a request takes seconds, and the thread stays responsive meanwhile. */
  turns?: ModelTurns;
}

/** The model `fromEnv` uses when `OPENAI_MODEL` is not set. */
export const DEFAULT_OPENAI_MODEL = 'gpt-4o-mini';

/** The API key sent to servers that need none. */
const PLACEHOLDER_API_KEY = 'unused';

/** Statuses worth retrying: timeout, conflict, rate limit. Every 5xx is too. */
const RETRYABLE_STATUSES = new Set([408, 409, 429]);

/**
 * A chat model on the OpenAI Chat Completions API with function tools: OpenAI itself, or any
 * compatible server (Ollama, vLLM, llama.cpp). Errors are classified for Temporal: a refused request
 * throws `ModelRequestRejectedError`, a transient failure `ModelUnavailableError`.
 */
export class OpenAIChatModel implements ChatModel {
  readonly name: string;
  readonly turns: ModelTurns;
  private readonly client: OpenAI;
  private readonly model: string;
  private readonly temperature?: number;

  constructor(options: OpenAIChatModelOptions) {
    this.name = `openai:${options.model}`;
    this.turns = options.turns ?? 'activity';
    this.model = options.model;
    this.temperature = options.temperature;
    this.client = options.client ?? createClient(options);
  }

  /**
   * The model configured by `OPENAI_API_KEY`, `OPENAI_BASE_URL` and `OPENAI_MODEL` (default
   * `gpt-4o-mini`), or undefined when neither the key nor the base URL is set. A request may take
   * 4 minutes, inside the model activity's 5-minute limit.
   */
  static fromEnv(env: Record<string, string | undefined>): OpenAIChatModel | undefined {
    const apiKey = env.OPENAI_API_KEY || undefined;
    const baseURL = env.OPENAI_BASE_URL || undefined;
    if (!apiKey && !baseURL) return undefined;
    return new OpenAIChatModel({ apiKey, baseURL, model: env.OPENAI_MODEL || DEFAULT_OPENAI_MODEL, timeoutMs: 240_000 });
  }

  async complete(request: ChatModelRequest): Promise<AssistantMessage> {
    const completion = await this.client.chat.completions
      .create(
        {
          model: this.model,
          messages: [{ role: 'system', content: request.instructions }, ...request.messages.map(toWireMessage)],
          ...(request.tools.length > 0 && { tools: request.tools.map(toWireTool) }),
          ...(this.temperature !== undefined && { temperature: this.temperature }),
        },
        { signal: request.signal },
      )
      .catch((err: unknown) => {
        throw this.classify(err);
      });
    const choice = completion.choices?.[0];
    if (!choice) throw new ModelUnavailableError(`OpenAI returned no choices for model '${this.model}'`);
    return fromWireMessage(choice.message);
  }

  /** The Airlock error for a failed request. A user abort and unknown errors pass through as they are. */
  private classify(err: unknown): unknown {
    if (err instanceof APIUserAbortError) return err;
    if (err instanceof APIConnectionError) {
      return new ModelUnavailableError(`OpenAI unreachable at ${this.client.baseURL}: ${rootCauseMessage(err)}`);
    }
    if (!(err instanceof APIError) || err.status === undefined) return err;
    const detail = err.message.replace(`${err.status} `, '');
    if (err.status >= 400 && err.status < 500 && !RETRYABLE_STATUSES.has(err.status)) {
      return new ModelRequestRejectedError(`OpenAI request rejected (${err.status}): ${detail}`, err.status);
    }
    return new ModelUnavailableError(
      `OpenAI unavailable (${err.status}): ${detail}`,
      err.status,
      retryAfterMs(err.headers),
    );
  }
}

function createClient(options: OpenAIChatModelOptions): OpenAI {
  return new OpenAI({
    apiKey: options.apiKey ?? (options.baseURL ? PLACEHOLDER_API_KEY : undefined),
    baseURL: options.baseURL,
    timeout: options.timeoutMs,
    maxRetries: 0,
  });
}

function toWireMessage(message: ChatMessage): ChatCompletionMessageParam {
  switch (message.role) {
    case 'user':
      return { role: 'user', content: message.content };
    case 'assistant':
      return toWireAssistantMessage(message);
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
  }
}

function toWireAssistantMessage(message: AssistantMessage): ChatCompletionMessageParam {
  const toolCalls = message.toolCalls ?? [];
  if (toolCalls.length === 0) return { role: 'assistant', content: message.content };
  return {
    role: 'assistant',
    content: message.content || null,
    tool_calls: toolCalls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    })),
  };
}

function toWireTool(tool: ToolSchema): ChatCompletionTool {
  return {
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.parameters },
  };
}

/** The assistant message of a response. A refusal is the text when there is no content. */
function fromWireMessage(message: ChatCompletionMessage): AssistantMessage {
  const toolCalls: ToolCall[] = (message.tool_calls ?? []).flatMap((call) =>
    call.type === 'function' ? [{ id: call.id, name: call.function.name, arguments: call.function.arguments }] : [],
  );
  const content = message.content ?? message.refusal ?? '';
  return toolCalls.length > 0 ? { role: 'assistant', content, toolCalls } : { role: 'assistant', content };
}

/** How long the server asked us to wait: `retry-after-ms`, or `retry-after` in seconds or as an HTTP date. */
function retryAfterMs(headers: Headers | undefined): number | undefined {
  const millis = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (millis >= 0) return millis;
  const retryAfter = headers?.get('retry-after');
  if (!retryAfter) return undefined;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * The innermost cause's message: `connect ECONNREFUSED …` rather than `Connection error.`.
 * Duck-typed: fetch's errors may come from another realm (a jest or vm context).
 */
function rootCauseMessage(err: Error): string {
  let current: { message: string; cause?: unknown } = err;
  while (hasMessage(current.cause)) current = current.cause;
  return current.message;
}

function hasMessage(value: unknown): value is { message: string; cause?: unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}
