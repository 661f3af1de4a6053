/**
 * History encrypted at rest: with codec keys, nothing a user, a model or a tool wrote is in the
 * server's history in the clear, while a client holding the keys reads the thread, its pending
 * approvals and its audit trail exactly as before. Rotating keys keeps old threads readable.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { defineAgent } from '../../src/agents';
import { AirlockClient } from '../../src/client';
import { CodecError, CodecErrorType, EncryptionCodec, KEY_ID_METADATA, createKeyring } from '../../src/codec';
import { ScriptedModel, callTools, reply } from '../../src/models';
import { defineTool } from '../../src/tools';
import { bundleAirlockWorkflows, createWorker, type CreateWorkerOptions } from '../../src/worker';
import { connectToDevServer, endThreads, quietRuntime, unique } from '../helpers';

let server: Awaited<ReturnType<typeof connectToDevServer>>;
let bundle: { code: string };

beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
  // The workflow side of encrypted failure messages lives in the bundle: this file builds its own.
  const noop = () => undefined;
  bundle = await bundleAirlockWorkflows({ encryptedFailures: true, logger: { log: noop, trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error } });
}, 120_000);
afterAll(() => server.close());

const newKey = (id: string) => ({ id, key: randomBytes(32).toString('base64') });
const codecOf = (...keys: Array<{ id: string; key: string }>) => new EncryptionCodec(createKeyring(keys));
/** A Temporal client of the run's server whose payloads go through `codec` (none: the raw bytes). */
const clientWith = (codec?: EncryptionCodec) => new Client({ connection: server.connection, dataConverter: codec ? { payloadCodecs: [codec] } : {} });

/** An agent whose protected tool echoes its argument and whose open tool fails with a marked message. */
function markedAgent(failureText: string) {
  const runs: unknown[] = [];
  const agent = defineAgent({
    name: 'vault-agent',
    instructions: 'Test agent.',
    tools: [
      defineTool({
        name: 'delete_file',
        description: 'Delete a file',
        parameters: z.object({ path: z.string() }),
        execute: ({ path }) => (runs.push(path), `removed ${path} (receipt RESULT-MARK)`),
      }),
      defineTool({
        name: 'lookup',
        description: 'Look something up',
        parameters: z.object({ q: z.string() }),
        maxAttempts: 1,
        execute: () => {
          throw new Error(failureText);
        },
      }),
    ],
    interrupts: { delete_file: { allowAuto: false, note: 'Deletion cannot be undone' } },
  });
  return { agent, runs };
}

/** The thread's pending approval, once visibility (eventually consistent) lists it. */
async function pendingOf(airlock: AirlockClient, threadId: string) {
  for (let attempt = 0; ; attempt++) {
    const found = (await airlock.pendingApprovals()).find((approval) => approval.threadId === threadId);
    if (found || attempt >= 100) return found!;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Runs a worker with `codec` on the task queue while `fn` runs. */
async function withEncryptingWorker<T>(options: Omit<CreateWorkerOptions, 'connection' | 'workflowBundle'>, fn: () => Promise<T>): Promise<T> {
  const worker = await createWorker({ ...options, connection: server.nativeConnection, workflowBundle: bundle });
  return worker.runUntil(fn());
}

/** The thread's history and its visibility record as the server stores them, as bytes. */
async function rawBytes(threadId: string): Promise<Buffer> {
  const history = await clientWith().workflow.getHandle(threadId).fetchHistory();
  const described = await server.connection.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId: threadId } });
  return Buffer.concat([
    Buffer.from(temporal.api.history.v1.History.encode(history).finish()),
    Buffer.from(temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse.encode(described).finish()),
  ]);
}

test(
  'history holds no plaintext arguments, messages, results or failure texts; a client with the keys reads the audit trail as before',
  async () => {
    const mark = unique('MARK').replace(/-/g, '');
    const secretPath = `/srv/${mark}-ARGS/customers.db`;
    const userText = `Please delete ${secretPath}, and ${mark}-USERMSG`;
    const failureText = `upstream said ${mark}-FAILURE`;
    const codec = codecOf(newKey('k1'));
    const taskQueue = unique('encrypted');
    const { agent, runs } = markedAgent(failureText);
    const model = new ScriptedModel([
      callTools(['lookup', { q: `${mark}-LOOKUP` }]),
      callTools(['delete_file', { path: secretPath }]),
      reply(`Done: ${mark}-REPLY`),
    ]);
    const airlock = new AirlockClient({ client: clientWith(codec), taskQueue, defaultAgent: agent.name });
    const threadId = unique('thread');
    await withEncryptingWorker({ agents: [agent], model, taskQueue, payloadCodec: codec }, async () => {
      try {
        const first = await airlock.handleMessage(threadId, userText);
        expect(first.state.status).toBe('awaiting_approval');
        const interrupt = first.state.currentInterrupt!;
        expect(interrupt.toolArgs).toEqual({ path: secretPath });
        // The pending approvals come from the (encrypted) memo: the client with keys reads them.
        const pending = await pendingOf(airlock, threadId);
        expect(pending).toMatchObject({ toolName: 'delete_file', args: { path: secretPath }, policyNote: 'Deletion cannot be undone' });
        const final = await airlock.resumeWithApproval(threadId, 'accept', { approver: 'alice', reason: `${mark}-REASON` });
        expect(final.content).toBe(`Done: ${mark}-REPLY`);
        expect(runs).toEqual([secretPath]);

        const audit = await airlock.auditTrail(threadId);
        const decided = audit.find((entry) => entry.toolName === 'delete_file')!;
        expect(decided).toMatchObject({ decision: 'accepted', toolArgs: { path: secretPath }, approver: 'alice', reason: `${mark}-REASON`, result: `removed ${secretPath} (receipt RESULT-MARK)` });
        // The failed lookup's message reached the model (and the history reader) through the codec.
        const conversation = (await airlock.getState(threadId)).messages.map((message) => message.content).join('\n');
        expect(conversation).toContain(failureText);

        const raw = await rawBytes(threadId);
        for (const secret of [mark, 'RESULT-MARK', 'Deletion cannot be undone', 'alice']) expect(raw.includes(Buffer.from(secret))).toBe(false);
        // By design, search attributes stay in the clear: the agent and the tool that waited.
        expect(raw.includes(Buffer.from('vault-agent'))).toBe(true);

        // A client without the keys does not pass ciphertext off as the trail.
        const blind = new AirlockClient({ client: clientWith(), taskQueue });
        await expect(blind.auditTrail(threadId)).rejects.toThrow("This thread's history is encrypted (key 'k1') and this client has no codec keys");
      } finally {
        await endThreads(airlock, [threadId]);
      }
    });
  },
  180_000,
);

test(
  'after a key rotation, threads written under the old key still read and decide; new payloads carry the new key id',
  async () => {
    const oldKey = newKey('k-2025');
    const rotatedKey = newKey('k-2026');
    const before = codecOf(oldKey);
    const after = codecOf(oldKey, rotatedKey);
    const taskQueue = unique('rotation');
    const { agent, runs } = markedAgent('unused');
    const threadId = unique('thread');
    const secretPath = `/srv/${unique('rotated')}.db`;
    const model = new ScriptedModel([callTools(['delete_file', { path: secretPath }]), reply('Deleted.')]);

    const oldClient = new AirlockClient({ client: clientWith(before), taskQueue, defaultAgent: agent.name });
    await withEncryptingWorker({ agents: [agent], model, taskQueue, payloadCodec: before }, async () => {
      expect((await oldClient.handleMessage(threadId, `Please delete ${secretPath}`)).state.status).toBe('awaiting_approval');
    });

    // Keys rotated everywhere: the new key is added as the newest; the old one stays to decrypt.
    const airlock = new AirlockClient({ client: clientWith(after), taskQueue, defaultAgent: agent.name });
    await withEncryptingWorker({ agents: [agent], model, taskQueue, payloadCodec: after }, async () => {
      try {
        const pending = await pendingOf(airlock, threadId);
        expect(pending.args).toEqual({ path: secretPath });
        const final = await airlock.resumeWithApproval(threadId, 'accept', { approver: 'bob', interruptId: pending.id });
        expect(final.content).toBe('Deleted.');
        expect(runs).toEqual([secretPath]);
        expect((await airlock.auditTrail(threadId)).find((entry) => entry.toolName === 'delete_file')).toMatchObject({ toolArgs: { path: secretPath }, approver: 'bob' });
      } finally {
        await endThreads(airlock, [threadId]);
      }
    });

    // The start was written under the old key; the tool's result, after the rotation, under the new one.
    const history = await clientWith().workflow.getHandle(threadId).fetchHistory();
    const keyIdOf = (payload: temporal.api.common.v1.IPayload | null | undefined) => Buffer.from(payload?.metadata?.[KEY_ID_METADATA] ?? []).toString();
    const started = history.events!.find((event) => event.workflowExecutionStartedEventAttributes)!;
    expect(keyIdOf(started.workflowExecutionStartedEventAttributes!.input!.payloads![0])).toBe('k-2025');
    const results = history.events!.filter((event) => event.activityTaskCompletedEventAttributes).map((event) => keyIdOf(event.activityTaskCompletedEventAttributes!.result!.payloads![0]));
    expect(results[results.length - 1]).toBe('k-2026');

    // A reader that dropped the old key too soon is told which key it lacks.
    const failure = await new AirlockClient({ client: clientWith(codecOf(rotatedKey)), taskQueue }).auditTrail(threadId).catch((err: unknown) => err);
    expect(CodecError.isInstance(failure, CodecErrorType.CodecKeyUnknown)).toBe(true);
    expect((failure as Error).message).toContain("'k-2025'");
  },
  180_000,
);
