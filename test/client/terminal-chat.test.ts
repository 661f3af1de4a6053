/** The terminal chat of `npm start`, driven by piped lines as a script would, against a real server and the example tools. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { createExampleAgent } from '../../src/agents';
import { AirlockClient } from '../../src/client';
import { runTerminalChat } from '../../src/cli/terminal-chat';
import { OfflineModel } from '../../src/models';
import { connectToDevServer, quietRuntime, tempDir, unique, withWorker } from '../helpers';

let server: Awaited<ReturnType<typeof connectToDevServer>>;
beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
});
afterAll(() => server.close());

async function chat(lines: string[], options: { client: AirlockClient; threadId: string; approver: string }): Promise<string> {
  const input = new PassThrough();
  const output = new PassThrough();
  let transcript = '';
  output.on('data', (chunk: Buffer) => (transcript += chunk.toString()));
  input.end(lines.map((line) => `${line}\n`).join(''));
  await runTerminalChat({ ...options, agent: 'assistant', io: { input, output } });
  return transcript;
}

test('approve a deletion and reject an email at the prompt; resume a thread with its pending approval', async () => {
  const dir = tempDir();
  const sandbox = path.join(dir, 'sandbox');
  mkdirSync(sandbox);
  writeFileSync(path.join(sandbox, 'notes.txt'), 'x');
  writeFileSync(path.join(sandbox, 'keep.txt'), 'x');
  const outbox = path.join(dir, 'outbox.jsonl');
  const taskQueue = unique('chat');
  const threadId = unique('thread');
  const client = new AirlockClient({ client: server.client, taskQueue });
  const agent = createExampleAgent({ sandboxDir: sandbox, outboxFile: outbox });

  await withWorker({ agents: [agent], model: new OfflineModel(), taskQueue, connection: server.nativeConnection }, async () => {
    const first = await chat(
      ['delete the file notes.txt', 'y', 'send an email to ops@example.com about the release', 'n', 'not today', 'delete the file keep.txt'],
      { client, threadId, approver: 'alice' },
    );
    expect(first).toContain('🔒 APPROVAL REQUIRED');
    expect(first).toContain('Tool: delete_file');
    expect(first).toContain('"path": "notes.txt"');
    expect(first).toContain('Note: File deletion is irreversible');
    expect(first).toMatch(/Agent: Here is what happened:\n- delete_file: Deleted .*notes\.txt/);
    expect(first).toContain('rejected this send_email call; it was not run. Reason: not today');
    expect(existsSync(path.join(sandbox, 'notes.txt'))).toBe(false);
    expect(existsSync(outbox)).toBe(false);
    // Input ended at the third approval prompt: the thread waits, nothing ran.
    expect(first).toMatch(/The approval \S+ is still pending; nothing was decided\./);
    expect(existsSync(path.join(sandbox, 'keep.txt'))).toBe(true);

    const resumed = await chat(['y', 'exit'], { client, threadId, approver: 'bob' });
    expect(resumed).toContain(`Resuming thread ${threadId}`);
    expect(resumed).toContain('"path": "keep.txt"');
    expect(resumed).toMatch(/Agent: Here is what happened:\n- delete_file: Deleted .*keep\.txt/);
    expect(existsSync(path.join(sandbox, 'keep.txt'))).toBe(false);
    const state = await client.getState(threadId);
    expect(state.interrupts.map((i) => i.resolution && 'approver' in i.resolution && i.resolution.approver)).toEqual(['alice', 'alice', 'bob']);
  });
  // The deletions ledger lives next to the sandbox, out of the agent's reach.
  expect(readFileSync(path.join(dir, 'deletions.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
});
