import { z } from 'zod';
import { isToolName } from '../core';
import type { ToolRunOptions, ToolSchema } from '../core';

/** What a tool's `execute` receives besides its arguments. */
export interface ToolContext {
  threadId: string;
  toolCallId: string;
  /**
   * Stable for this tool call across retries and worker restarts (`<threadId>/<turn>/<toolCallId>`).
   * A side-effecting tool uses it to make a repeated run harmless.
   */
  idempotencyKey: string;
  /** The interrupt a person approved, when the tool is protected. */
  interruptId?: string;
  /** 1 on the first run of this call, higher on retries. */
  attempt: number;
  /** Aborted when the activity is cancelled. */
  signal: AbortSignal;
}

/** A tool the model may call. `timeout` and `maxAttempts` set how its activity runs. */
export interface Tool<Schema extends z.ZodType = z.ZodType> extends ToolRunOptions {
  name: string;
  description: string;
  /** Zod schema of the arguments; the model's arguments are validated against it before anything runs. */
  parameters: Schema;
  /** Runs the tool. A string result goes to the model as is; anything else as JSON. Throwing marks the call failed. */
  execute(args: z.output<Schema>, context: ToolContext): unknown;
}


/**
 * Defines a tool: name, description, zod schema of its arguments, and `execute`.
 * @throws Error if the name is not 1–64 letters, digits, `_` or `-` (what model APIs accept).
 */
export function defineTool<Schema extends z.ZodType>(tool: Tool<Schema>): Tool<Schema> {
  if (!isToolName(tool.name)) throw new Error(`Invalid tool name '${tool.name}': use 1-64 letters, digits, _ or -`);
  return tool;
}

/** The tool as the model sees it: name, description, JSON Schema of its arguments. */
export function toToolSchema(tool: Tool): ToolSchema {
  const { $schema: _ignored, ...parameters } = z.toJSONSchema(tool.parameters, { io: 'input' }) as Record<string, unknown>;
  return { name: tool.name, description: tool.description, parameters };
}
