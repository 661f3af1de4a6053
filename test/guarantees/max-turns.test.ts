/** `maxTurns`: a model that never stops calling tools is stopped, and the thread stays usable. */
import { maxTurnsText } from '../../src/workflows/model-text';
import { z } from 'zod';
import { defineAgent } from '../../src/agents';
import { AirlockClient } from '../../src/client';
import { ScriptedModel, callTools, reply } from '../../src/models';
import { defineTool } from '../../src/tools';
import { connectToDevServer, endThreads, quietRuntime, unique, withWorker } from '../helpers';

let server: Awaited<ReturnType<typeof connectToDevServer>>;

beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
});
afterAll(() => server.close());

test('an agent with maxTurns 2 whose model keeps calling a tool stops after 2 turns and says so; the next message is answered normally', async () => {
  const taskQueue = unique('max-turns');
  const threadId = unique('thread');
  const searches: string[] = [];
  const agent = defineAgent({
    name: 'restless',
    instructions: 'Search until you know.',
    tools: [
      defineTool({
        name: 'search',
        description: 'Search the web',
        parameters: z.object({ q: z.string() }),
        execute: ({ q }) => {
          searches.push(q);
          return `nothing about ${q}`;
        },
      }),
    ],
    interrupts: {},
    maxTurns: 2,
  });
  const model = new ScriptedModel([
    callTools(['search', { q: 'first try' }, 'call_a']),
    callTools(['search', { q: 'second try' }, 'call_b']),
    // Only reached by the next message.
    reply('Hello again.'),
  ]);
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: agent.name });

  await withWorker({ agents: [agent], model, taskQueue, connection: server.nativeConnection }, async () => {
    try {
      const stopped = await airlock.handleMessage(threadId, 'find out everything');
      expect(stopped.content).toBe(maxTurnsText(2));
      expect(stopped.state.status).toBe('idle');
      expect(stopped.state.turn).toBe(2);
      expect(model.requests).toHaveLength(2);
      expect(searches).toEqual(['first try', 'second try']);

      const next = await airlock.handleMessage(threadId, 'hello?');
      expect(next.content).toBe('Hello again.');
      expect(next.state.turn).toBe(3);
      // The model saw the stopped exchange, the stop notice included, before the new message.
      expect(model.requests[2].messages.slice(-2)).toEqual([
        { role: 'assistant', content: maxTurnsText(2) },
        { role: 'user', content: 'hello?' },
      ]);
    } finally {
      await endThreads(airlock, [threadId]);
    }
  });
  model.assertDone();
  expect(searches).toHaveLength(2);
});
