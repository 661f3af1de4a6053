import { ApplicationFailure, Context } from '@temporalio/activity';
import { z } from 'zod';
import { ErrorType } from '../core';
import type { AgentSpec, AirlockActivities, AssistantMessage, CheckedToolCall, ExecuteToolInput, ExecuteToolResult, ToolCall, ToolSchema } from '../core';
import type { Agent } from '../agents';
import type { ChatModel } from '../models';
import { ModelRequestRejectedError, ModelUnavailableError } from '../models';
import { ToolError, toToolSchema } from '../tools';

/** What the activities need: the agents (with their tools) this worker hosts, and the model. */
export interface ActivityDependencies {
  agents: Agent[];
  model: ChatModel;
}

const HEARTBEAT_EVERY_MS = 10_000;
/** The longest wait a provider's `retry-after` may impose before the next attempt. */
const MAX_RETRY_AFTER_MS = 5 * 60_000;

/**
 * Builds the workflow's activities from their dependencies: `loadAgent`, `callModel` (one model
 * turn, tool calls checked against the schemas before anything runs) and `executeTool`.
 */
export function createActivities({ agents, model }: ActivityDependencies): AirlockActivities {
  const byName = new Map(agents.map((agent) => [agent.name, agent]));
  const schemas = new Map<Agent, Map<string, ToolSchema>>();

  const findAgent = (name: string): Agent => {
    const agent = byName.get(name);
    if (agent) return agent;
    throw ApplicationFailure.create({
      type: ErrorType.AgentNotFound,
      message: `This worker has no agent '${name}' (it has: ${[...byName.keys()].join(', ') || 'none'})`,
      nonRetryable: true,
    });
  };
  const toolSchemas = (agent: Agent, spec: AgentSpec): ToolSchema[] => {
    let cached = schemas.get(agent);
    if (!cached) {
      cached = new Map(agent.tools.map((tool) => [tool.name, toToolSchema(tool)]));
      schemas.set(agent, cached);
    }
    return spec.tools.flatMap((name) => cached.get(name) ?? []);
  };

  return {
    async loadAgent(name) {
      return findAgent(name).spec();
    },

    async callModel({ threadId, agent: spec, messages, turn }) {
      const agent = findAgent(spec.name);
      const context = Context.current();
      const heartbeat = setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
      try {
        const message = await model.complete({
          instructions: spec.instructions,
          messages,
          tools: toolSchemas(agent, spec),
          signal: context.cancellationSignal,
          threadId,
          turn,
        });
        const named = withUniqueCallIds(message, turn);
        return { message: named, toolCalls: (named.toolCalls ?? []).map((call) => checkToolCall(call, spec, agent)) };
      } catch (err) {
        throw toModelFailure(err);
      } finally {
        clearInterval(heartbeat);
      }
    },

    async executeTool(input: ExecuteToolInput): Promise<ExecuteToolResult> {
      const tool = findAgent(input.agent).tool(input.toolName);
      if (!tool) {
        throw ApplicationFailure.create({
          type: ErrorType.ToolNotFound,
          message: `This worker has no tool '${input.toolName}' for agent '${input.agent}'`,
          nonRetryable: true,
        });
      }
      const parsed = tool.parameters.safeParse(input.args);
      if (!parsed.success) return { ok: false, errorType: ErrorType.ToolArgumentsInvalid, error: z.prettifyError(parsed.error) };
      const context = Context.current();
      try {
        const output = await tool.execute(parsed.data, {
          threadId: input.threadId,
          toolCallId: input.toolCallId,
          idempotencyKey: input.idempotencyKey,
          interruptId: input.interruptId,
          attempt: context.info.attempt,
          signal: context.cancellationSignal,
        });
        return { ok: true, output: typeof output === 'string' ? output : (JSON.stringify(output) ?? '') };
      } catch (err) {
        if (err instanceof ToolError) return { ok: false, errorType: ErrorType.ToolFailed, error: err.message };
        throw err;
      }
    },
  };
}

/**
 * Gives blank or repeated tool-call ids (some OpenAI-compatible servers send them) a unique one,
 * so every call gets its own interrupt, result message and idempotency key.
 */
function withUniqueCallIds(message: AssistantMessage, turn: number): AssistantMessage {
  if (!message.toolCalls?.length) return message;
  const seen = new Set<string>();
  const toolCalls = message.toolCalls.map((call, index) => {
    const id = call.id && !seen.has(call.id) ? call.id : `call_${turn}_${index + 1}`;
    seen.add(id);
    return id === call.id ? call : { ...call, id };
  });
  return { ...message, toolCalls };
}

/** Checks a tool call against the agent before anything runs: known tool, JSON arguments, schema. */
function checkToolCall(call: ToolCall, spec: AgentSpec, agent: Agent): CheckedToolCall {
  const tool = spec.tools.includes(call.name) ? agent.tool(call.name) : undefined;
  if (!tool) {
    return {
      id: call.id,
      name: call.name,
      status: 'invalid',
      errorType: ErrorType.ToolNotFound,
      error: `Unknown tool '${call.name}'. Available tools: ${spec.tools.join(', ') || 'none'}`,
    };
  }
  let args: unknown;
  try {
    args = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
  } catch (err) {
    return {
      id: call.id,
      name: call.name,
      status: 'invalid',
      errorType: ErrorType.ToolArgumentsInvalid,
      error: `Arguments for ${call.name} are not valid JSON: ${(err as Error).message}`,
    };
  }
  const parsed = tool.parameters.safeParse(args);
  if (!parsed.success) {
    return {
      id: call.id,
      name: call.name,
      status: 'invalid',
      errorType: ErrorType.ToolArgumentsInvalid,
      error: `Invalid arguments for ${call.name}:\n${z.prettifyError(parsed.error)}`,
    };
  }
  // The arguments as the model wrote them: what the approver sees is what runs.
  return { id: call.id, name: call.name, status: 'valid', args };
}

function toModelFailure(err: unknown): unknown {
  if (err instanceof ModelRequestRejectedError) {
    return ApplicationFailure.create({ type: err.type, message: err.message, nonRetryable: true });
  }
  if (err instanceof ModelUnavailableError) {
    return ApplicationFailure.create({ type: err.type, message: err.message, nextRetryDelay: err.retryAfterMs === undefined ? undefined : Math.min(err.retryAfterMs, MAX_RETRY_AFTER_MS) });
  }
  return err;
}
