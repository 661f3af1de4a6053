/**
 * Records the history of one thread that goes through every path of the workflow (signed accept,
 * refused decisions, reject by signal, timeout, auto-approved and unprotected tools, invalid
 * arguments, unknown tool, two messages, end) into test/replay/histories/, for the replay test.
 * After a deliberate change of the workflow's commands, add a history under a new name (never
 * overwrite a released one): `npm run build && node dist/scripts/record-history.js thread-v<N>`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { z } from 'zod';
import { AirlockClient } from '../src/client';
import { createSigningKey } from '../src/client/signing-keys';
import { defineAgent } from '../src/agents';
import { ScriptedModel, callTools, reply } from '../src/models';
import { defineTool } from '../src/tools';
import { createWorker } from '../src/worker';
import { startDevServer } from '../src/devtools/dev-server';
import { findTemporalBinary } from '../src/devtools/temporal-binaries';

/** npm scripts and the README's commands run in the project's root. */
const PROJECT_ROOT = process.cwd();

const note = (tool: string) => defineTool({ name: tool, description: tool, parameters: z.object({ target: z.string() }), execute: ({ target }) => `${tool}: ${target}` });

async function main(name: string) {
  const target = path.join(PROJECT_ROOT, 'test/replay/histories', `${name}.json`);
  if (existsSync(target)) throw new Error(`${path.relative(PROJECT_ROOT, target)} exists: released histories are kept; record under a new name`);
  const server = await startDevServer({ port: 0, uiPort: false, dbFilename: null });
  const connection = await NativeConnection.connect({ address: server.address });
  try {
    const agent = defineAgent({
      name: 'recorded',
      instructions: 'Replay corpus agent.',
      tools: [note('delete_file'), note('send_email'), note('lookup'), note('restart_service')],
      interrupts: {
        delete_file: { allowAuto: false, note: 'irreversible' },
        send_email: { allowAuto: false, timeout: '2s' },
        restart_service: { allowAuto: true },
      },
    });
    const model = new ScriptedModel([
      callTools(
        ['delete_file', { target: 'a' }, 'c1'],
        ['lookup', { target: 'b' }, 'c2'],
        ['send_email', { target: 'c' }, 'c3'],
        ['restart_service', { target: 'd' }, 'c4'],
        ['delete_file', { target: 42 }, 'c5'],
        ['drop_table', { target: 'e' }, 'c6'],
      ),
      reply('First done.'),
      callTools(['delete_file', { target: 'f' }, 'c1']),
      reply('Second done.'),
      callTools(['delete_file', { target: 'g' }, 'c1']),
    ]);
    const taskQueue = `record-${Date.now()}`;
    const threadId = `recorded-${name}`;
    const alice = createSigningKey({ keyId: 'alice-1', owner: 'alice', kind: 'approver' });
    const worker = await createWorker({ agents: [agent], model, taskQueue, connection, approvals: { trustedKeys: [alice.trustedKey] } });
    const clientConnection = (await import('@temporalio/client')).Connection.lazy({ address: server.address });
    const airlock = new AirlockClient({ connection: clientConnection, taskQueue, defaultAgent: 'recorded' });
    const signed = new AirlockClient({ connection: clientConnection, taskQueue, signingKey: alice.signingKey });
    await worker.runUntil(async () => {
      const first = await airlock.handleMessage(threadId, 'first');
      const del = first.state.pendingInterrupts.find((interrupt) => interrupt.toolName === 'delete_file')!;
      await airlock.decide(threadId, { interruptId: 'unknown', action: 'accept', approver: 'mallory' });
      await signed.decide(threadId, { interruptId: del.id, action: 'accept', approver: 'alice' });
      await airlock.sendDecision(threadId, { interruptId: del.id, action: 'reject', approver: 'late' });
      await waitUntilIdle(airlock, threadId);
      const second = await airlock.handleMessage(threadId, 'second');
      await airlock.sendDecision(threadId, { interruptId: second.state.currentInterrupt!.id, action: 'reject', approver: 'bob', reason: 'no' });
      await waitUntilIdle(airlock, threadId);
      await airlock.handleMessage(threadId, 'third: ended while waiting');
      await airlock.endThread(threadId);
      await airlock.handle(threadId).result();
    });
    model.assertDone();
    // The CLI writes the history in the proto JSON format that replay reads.
    const json = execFileSync(findTemporalBinary('cli'), ['workflow', 'show', '--address', server.address, '--workflow-id', threadId, '--output', 'json'], {
      encoding: 'utf8',
    });
    const file = target;
    writeFileSync(file, json);
    console.log(`Recorded ${JSON.parse(json).events.length} events into ${path.relative(PROJECT_ROOT, file)}`);
  } finally {
    await connection.close();
    await server.stop();
  }
}

/** Waits out the send_email timeout: the thread answers once every interrupt is resolved. */
async function waitUntilIdle(airlock: AirlockClient, threadId: string): Promise<void> {
  while ((await airlock.awaitResponse(threadId)).state.status !== 'idle') await new Promise((resolve) => setTimeout(resolve, 200));
}

main(process.argv[2] ?? 'thread-next').catch((err) => {
  console.error(err);
  process.exit(1);
});
