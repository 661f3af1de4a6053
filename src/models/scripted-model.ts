import type { AssistantMessage, ModelTurns, ToolCall } from '../core';
import type { ChatModel, ChatModelRequest } from './chat-model';
import { ModelRequestRejectedError } from './model-errors';

/** One scripted turn: a fixed message, or a function of the request. */
export type ScriptedStep = AssistantMessage | ((request: ChatModelRequest) => AssistantMessage | Promise<AssistantMessage>);

/**
 * A model for tests that plays an exact list of turns. It complains: a call past the end of the
 * script fails the model activity (non-retryable), and `assertDone()` throws if steps were left unused.
 * Every request is recorded in `requests` for assertions.
 */
export class ScriptedModel implements ChatModel {
  readonly name = 'scripted';
  /** It answers at once: its turns run as local activities. */
  readonly turns: ModelTurns = 'local';
  readonly requests: ChatModelRequest[] = [];

  constructor(private readonly steps: ScriptedStep[]) {}

  async complete(request: ChatModelRequest): Promise<AssistantMessage> {
    const index = this.requests.length;
    const { signal: _signal, ...recorded } = request;
    this.requests.push(structuredClone(recorded));
    const step = this.steps[index];
    if (!step) throw new ModelRequestRejectedError(`ScriptedModel: unexpected call #${index + 1}; the script has ${this.steps.length} steps`);
    return typeof step === 'function' ? step(request) : step;
  }

  /** @throws Error if some scripted steps were never used. */
  assertDone(): void {
    if (this.requests.length < this.steps.length) {
      throw new Error(`ScriptedModel: ${this.steps.length - this.requests.length} of ${this.steps.length} steps unused`);
    }
  }
}

/** An assistant message that calls tools: `callTools(['delete_file', { path: 'a' }], ...)`. */
export function callTools(...calls: Array<[name: string, args: unknown, id?: string] | ToolCall>): AssistantMessage {
  return {
    role: 'assistant',
    content: '',
    toolCalls: calls.map((call, index) =>
      Array.isArray(call)
        ? { id: call[2] ?? `call_${index + 1}`, name: call[0], arguments: typeof call[1] === 'string' ? call[1] : JSON.stringify(call[1]) }
        : call,
    ),
  };
}

/** A final assistant answer. */
export function reply(content: string): AssistantMessage {
  return { role: 'assistant', content };
}
