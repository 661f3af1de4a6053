/** The terminal chat of `npm start`, driven by piped lines as a script would, against a real server and the example tools. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Decision } from '../../src/core';
import { createExampleAgent, defineAgent } from '../../src/agents';
import { createDeleteFileTool } from '../../src/tools';
import { editedText, respondedText } from '../../src/workflows/model-text';
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

async function chat(lines: string[], options: { client: AirlockClient; threadId: string; approver: string; agent?: string }): Promise<string> {
  const input = new PassThrough();
  const output = new PassThrough();
  let transcript = '';
  output.on('data', (chunk: Buffer) => (transcript += chunk.toString()));
  input.end(lines.map((line) => `${line}\n`).join(''));
  await runTerminalChat({ agent: 'assistant', ...options, io: { input, output } });
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

test('edit and respond at the prompt: bad JSON is asked again, a refused edit leaves the call waiting, an edit into a stricter policy waits for its approver, a response replaces the tool; a yes-or-no policy offers only y/n', async () => {
  const dir = tempDir();
  const sandbox = path.join(dir, 'sandbox');
  mkdirSync(sandbox);
  writeFileSync(path.join(sandbox, 'notes.txt'), 'x');
  writeFileSync(path.join(sandbox, 'report.txt'), 'x');
  const paymentsFile = path.join(dir, 'payments.jsonl');
  const payments = () => (existsSync(paymentsFile) ? readFileSync(paymentsFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { amount: number; to: string }) : []);
  const taskQueue = unique('chat-doors');
  const threadId = unique('thread');
  const client = new AirlockClient({ client: server.client, taskQueue });
  const strict = defineAgent({
    name: 'strict',
    instructions: 'Ask first.',
    tools: [createDeleteFileTool(sandbox, { ledgerFile: path.join(dir, 'strict-deletions.jsonl') })],
    interrupts: { delete_file: { allowAuto: false, allowedDecisions: ['accept', 'reject'] } },
  });

  await withWorker({ agents: [createExampleAgent({ sandboxDir: sandbox }), strict], model: new OfflineModel(), taskQueue, connection: server.nativeConnection }, async () => {
    const first = await chat(
      [
        'pay 500 to acme',
        'e',
        '{"amount": 60,',
        '[60]',
        '{"amount": -1, "to": "acme"}',
        'e',
        '',
        'e',
        '{"amount": 60, "to": "acme"}',
        'delete the file notes.txt',
        'r',
        'Not today: it holds the meeting notes',
        'pay 500 to acme',
        'e',
        '{"amount": 5000, "to": "acme"}',
        'y',
        'exit',
      ],
      { client, threadId, approver: 'alice' },
    );
    expect(first).toContain('Asks because: amount 500 exceeds 100');
    expect(first).toContain('Approve? (y/n, e edit, r respond): e\nType the arguments to run instead as one line of JSON (an empty line goes back). Now: {"amount":500,"to":"acme"}');
    expect(first).toMatch(/New arguments: \{"amount": 60,\nThat is not valid JSON \(.*\); try again, or an empty line to go back\.\nNew arguments: \[60\]\nThe arguments must be a JSON object/);
    expect(first).toContain("Decision refused (DecisionEditInvalid): The edited arguments do not fit 'make_payment'; nothing ran and the call still waits:");
    // The refused edit left the call waiting: it is shown again, and an empty line goes back to the prompt.
    expect(first).toMatch(/still waits:[\s\S]*🔒 APPROVAL REQUIRED[\s\S]*Approve\? \(y\/n, e edit, r respond\): e\n.*\nNew arguments: \nApprove\? \(y\/n, e edit, r respond\): e\n/);
    expect(first).toContain(`- make_payment: ${editedText('alice', { amount: 500, to: 'acme' }, { amount: 60, to: 'acme' }, 'Paid 60 EUR to acme')}`);
    expect(first).toContain(`- delete_file: ${respondedText('delete_file', 'alice', 'Not today: it holds the meeting notes')}`);
    expect(existsSync(path.join(sandbox, 'notes.txt'))).toBe(true);
    expect(first).toContain('Your edit was kept, but the edited call needs another approver: it waits for finance (amount 5,000 exceeds 1,000: finance approves). Nothing ran.');
    expect(first).toContain('Approvers: finance (not you, alice: the thread refuses your decision; exit leaves it pending)');
    expect(first).toContain("Decision refused (DecisionNotAllowed): That approver may not decide 'make_payment': allowed approvers are finance");
    expect(first).toMatch(/The approval \S+ is still pending; nothing was decided\./);
    expect(payments()).toEqual([expect.objectContaining({ amount: 60, to: 'acme' })]);

    const resumed = await chat(['y', 'exit'], { client, threadId, approver: 'finance' });
    expect(resumed).toMatch(/Arguments: \{\n {2}"amount": 5000,\n {2}"to": "acme"\n\}\nEdited by: alice \(the edited call waits for a stricter approval\)\nModel's arguments: \{\n {2}"amount": 500,/);
    expect(resumed).toContain('Approvers: finance\n');
    expect(resumed).toContain(`- make_payment: ${editedText('alice', { amount: 500, to: 'acme' }, { amount: 5000, to: 'acme' }, 'Paid 5000 EUR to acme')}`);
    expect(payments().map((payment) => payment.amount)).toEqual([60, 5000]);

    const strictThread = unique('strict');
    const yesOrNo = await chat(['delete the file report.txt', 'e', 'r', 'n', 'not now'], { client, threadId: strictThread, approver: 'alice', agent: 'strict' });
    expect(yesOrNo).toContain('Approve? (y/n): e\nPlease answer y (yes) or n (no); exit or quit leaves with the approval pending.\nApprove? (y/n): r\nPlease answer y (yes) or n (no)');
    expect(yesOrNo).toContain('rejected this delete_file call; it was not run. Reason: not now');
    expect(existsSync(path.join(sandbox, 'report.txt'))).toBe(true);
    const audit = await client.auditTrail(threadId);
    expect(audit.map((entry) => entry.decision)).toEqual(['edited', 'refused', 'responded', 'accepted', 'refused']);
    expect(audit.filter((entry) => entry.decision === 'refused').map((entry) => entry.refusal?.errorType)).toEqual(['DecisionEditInvalid', 'DecisionNotAllowed']);
    // Every decision made at the prompt named the call it was made on.
    const history = await client.handle(threadId).fetchHistory();
    const sent = (history.events ?? []).flatMap((event) => {
      const request = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
      return request?.input?.name === 'decide' ? [defaultPayloadConverter.fromPayload<Decision>(request.input.args!.payloads![0])] : [];
    });
    expect(sent.map((decision) => decision.action)).toEqual(['edit', 'edit', 'respond', 'edit', 'accept', 'accept']);
    expect(sent.every((decision) => /^[0-9a-f]{64}$/.test(decision.callDigest ?? ''))).toBe(true);
  });
});
