import { z } from 'zod';
import { defineAgent, type Agent } from '../src/agents';
import { defineTool } from '../src/tools';
import { nowMs } from './clock';

export const BENCH_AGENT = 'bench';

/** The message that makes the offline model call the protected tool. */
export const benchMessage = (index: number): string => `delete the file bench-${index}.txt`;

/**
 * An agent with one protected tool, `delete_file`, that touches nothing: it reports when it
 * started (first thing it does) and returns.
 */
export function createBenchAgent(onStart: (threadId: string, at: number) => void): Agent {
  const deleteFile = defineTool({
    name: 'delete_file',
    description: 'Pretends to delete a file: records when it ran, touches nothing',
    parameters: z.object({ path: z.string() }),
    execute: ({ path }, { threadId }) => {
      onStart(threadId, nowMs());
      return `deleted ${path} (benchmark: nothing was touched)`;
    },
  });
  // Unprotected: the long-thread phase's filler turns.
  const lookup = defineTool({
    name: 'lookup',
    description: 'Looks something up (benchmark: answers at once)',
    parameters: z.object({ q: z.string() }),
    execute: ({ q }) => `found nothing new about: ${q}`,
  });
  return defineAgent({
    name: BENCH_AGENT,
    instructions: 'Benchmark agent.',
    tools: [deleteFile, lookup],
    interrupts: { delete_file: { allowAuto: false, note: 'Benchmark: every call needs an approval' } },
  });
}
