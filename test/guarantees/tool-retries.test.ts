/**
 * A tool's `maxAttempts`: a throwing tool is run again, with the same idempotency key, up to its
 * limit; after that the model is told it failed.
 */
import { z } from 'zod';
import { defineAgent } from '../../src/agents';
import { AirlockClient } from '../../src/client';
import type { ChatMessage } from '../../src/core';
import { ScriptedModel, callTools, reply } from '../../src/models';
import { defineTool, type ToolContext } from '../../src/tools';
import { connectToDevServer, endThreads, quietRuntime, unique, withWorker } from '../helpers';

let server: Awaited<ReturnType<typeof connectToDevServer>>;

beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
});
afterAll(() => server.close());

/** An agent with one unprotected tool that fails on the attempts `failOn` says, and records every run. */
function flakyAgent(maxAttempts: number, failOn: (attempt: number) => boolean) {
  const runs: Array<Pick<ToolContext, 'idempotencyKey' | 'attempt'>> = [];
  const agent = defineAgent({
    name: 'uploader',
    instructions: 'Upload what you are given.',
    tools: [
      defineTool({
        name: 'upload',
        description: 'Upload a file',
        parameters: z.object({ file: z.string() }),
        maxAttempts,
        execute: ({ file }, { idempotencyKey, attempt }) => {
          runs.push({ idempotencyKey, attempt });
          if (failOn(attempt)) throw new Error(`the storage service dropped the connection (attempt ${attempt})`);
          return `uploaded ${file}`;
        },
      }),
    ],
    interrupts: {},
  });
  return { agent, runs };
}

const toolResults = (messages: ChatMessage[]) => messages.filter((message) => message.role === 'tool').map((message) => message.content);

test('a tool with maxAttempts 3 that throws twice runs three times with the same idempotency key, and its result reaches the model', async () => {
  const taskQueue = unique('tool-retries');
  const threadId = unique('thread');
  const { agent, runs } = flakyAgent(3, (attempt) => attempt < 3);
  const model = new ScriptedModel([callTools(['upload', { file: 'report.pdf' }]), reply('Uploaded.')]);
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: agent.name });

  await withWorker({ agents: [agent], model, taskQueue, connection: server.nativeConnection }, async () => {
    try {
      const response = await airlock.handleMessage(threadId, 'upload report.pdf');
      expect(response.content).toBe('Uploaded.');
    } finally {
      await endThreads(airlock, [threadId]);
    }
  });
  expect(runs).toEqual([1, 2, 3].map((attempt) => ({ idempotencyKey: `${threadId}/1/call_1`, attempt })));
  expect(toolResults(model.requests[1].messages)).toEqual(['uploaded report.pdf']);
  model.assertDone();
}, 60_000);

test('a tool with maxAttempts 2 that always throws runs exactly twice, and the model is told it failed', async () => {
  const taskQueue = unique('tool-retries');
  const threadId = unique('thread');
  const { agent, runs } = flakyAgent(2, () => true);
  const model = new ScriptedModel([callTools(['upload', { file: 'report.pdf' }]), reply('The upload failed; try again later.')]);
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: agent.name });

  await withWorker({ agents: [agent], model, taskQueue, connection: server.nativeConnection }, async () => {
    try {
      const response = await airlock.handleMessage(threadId, 'upload report.pdf');
      expect(response.content).toBe('The upload failed; try again later.');
      expect(response.state.status).toBe('idle');
    } finally {
      await endThreads(airlock, [threadId]);
    }
  });
  expect(runs).toEqual([1, 2].map((attempt) => ({ idempotencyKey: `${threadId}/1/call_1`, attempt })));
  const [result] = toolResults(model.requests[1].messages);
  expect(result).toMatch(/^Error \(\w+\): /);
  expect(result).toContain('the storage service dropped the connection (attempt 2)');
  model.assertDone();
}, 60_000);
