/** Small real tools and agents for tests; every tool counts how often it really ran. */
import { z } from 'zod';
import type { HitlPolicy } from '../src/core';
import { defineAgent } from '../src/agents';
import { defineTool, type ToolContext } from '../src/tools';

export interface ToolRun {
  tool: string;
  args: unknown;
  context: Omit<ToolContext, 'signal'>;
}

/** Tools `delete_file`, `send_email`, `lookup` (unprotected) that record every run in `runs`. */
export function recordingAgent(interrupts: Record<string, HitlPolicy>, name = 'recorder') {
  const runs: ToolRun[] = [];
  const record = (tool: string) => (args: unknown, { signal: _signal, ...context }: ToolContext) => {
    runs.push({ tool, args, context });
    return `${tool} done: ${JSON.stringify(args)}`;
  };
  const agent = defineAgent({
    name,
    instructions: 'Test agent.',
    tools: [
      defineTool({ name: 'delete_file', description: 'Delete a file', parameters: z.object({ path: z.string() }), execute: record('delete_file') }),
      defineTool({
        name: 'send_email',
        description: 'Send an email',
        parameters: z.object({ to: z.email(), subject: z.string(), body: z.string().default('') }),
        execute: record('send_email'),
      }),
      defineTool({ name: 'lookup', description: 'Look something up', parameters: z.object({ q: z.string() }), execute: record('lookup') }),
    ],
    interrupts,
  });
  const ran = (tool: string) => runs.filter((run) => run.tool === tool);
  return { agent, runs, ran };
}

export const protectedPolicy = (note = 'Needs a person'): HitlPolicy => ({ allowAuto: false, note });
