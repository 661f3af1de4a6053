import type { AssistantMessage, ChatMessage, ModelTurns, ToolSchema } from '../core';

/** One model request: the agent's instructions, the conversation, the tools it may call. */
export interface ChatModelRequest {
  /** System instructions of the agent. */
  instructions: string;
  messages: ChatMessage[];
  tools: ToolSchema[];
  /** Aborted when the model activity is cancelled. */
  signal?: AbortSignal;
  /** The thread and turn, for logs and deterministic test models. */
  threadId: string;
  turn: number;
}

/**
 * A chat model: messages and tool schemas in, an assistant message (text and optional tool
 * calls) out. Throw `ModelRequestRejectedError` when retrying cannot help, anything else is retried.
 */
export interface ChatModel {
  /** Shown in logs and at startup, e.g. `openai:gpt-4o-mini` or `offline`. */
  readonly name: string;
  /**
   * How threads run this model's turns unless the agent says otherwise (`ModelTurns`): `'local'`
   * suits a model that answers at once (fewer history events), `'activity'` (the default) one
   * that takes seconds (the thread stays responsive meanwhile).
   */
  readonly turns?: ModelTurns;
  complete(request: ChatModelRequest): Promise<AssistantMessage>;
}
