/**
 * The OpenAPI document is the truth about the API: real responses of a running service (with a
 * real worker and dev server) validate against the schemas the document publishes.
 */
import Ajv2020 from 'ajv/dist/2020';
import { z } from 'zod';
import { defineAgent } from '../../src/agents';
import { AirlockClient } from '../../src/client';
import { createApprovalServer, createApproverTokens, openApiDocument, type ApprovalServer } from '../../src/server';
import { createWorker } from '../../src/worker';
import { ScriptedModel, callTools, reply } from '../../src/models';
import { defineTool } from '../../src/tools';
import { connectToDevServer, endThreads, quietRuntime, unique, workflowBundle } from '../helpers';
import { recordingAgent } from '../fixtures';

const TOKEN = 'openapi-contract-token-7c2e91b4d0';
let server: Awaited<ReturnType<typeof connectToDevServer>>;

beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
});
afterAll(() => server.close());

/** Validates a body against the schema the document gives for this path, method and status. */
function validator() {
  const doc = openApiDocument() as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }> }>>; components: { schemas: Record<string, object> } };
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  return (path: string, method: string, status: number, body: unknown) => {
    const response = doc.paths[path]?.[method]?.responses[status];
    if (!response) throw new Error(`The document has no ${status} for ${method.toUpperCase()} ${path}`);
    const ref = response.content?.['application/json']?.schema.$ref;
    const name = ref?.replace('#/components/schemas/', '');
    if (!name || !doc.components.schemas[name]) throw new Error(`No schema for ${status} ${method} ${path}`);
    const valid = ajv.validate(doc.components.schemas[name], body);
    return valid ? [] : (ajv.errors ?? []).map((error) => `${name}${error.instancePath}: ${error.message}`);
  };
}

test('every response of a real approval round trip validates against the OpenAPI document', async () => {
  const check = validator();
  const taskQueue = unique('openapi');
  const fixture = recordingAgent({ delete_file: { allowAuto: false, note: 'careful', approvers: ['alice'], timeout: '1h', confirm: true } });
  const model = new ScriptedModel([{ ...callTools(['delete_file', { path: 'a.txt' }]), content: 'I will delete a.txt as asked.' }, reply('done')]);
  const worker = await createWorker({ agents: [fixture.agent], model, taskQueue, connection: server.nativeConnection, workflowBundle: workflowBundle() });
  const client = new AirlockClient({ client: server.client, taskQueue, defaultAgent: 'recorder' });
  let service: ApprovalServer | undefined;
  await worker.runUntil(async () => {
    service = createApprovalServer({ client, tokens: createApproverTokens({ [TOKEN]: 'alice' }), log: () => undefined });
    const base = await service.listen({ port: 0 });
    const call = async (method: string, path: string, body?: unknown, token = TOKEN) => {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { ...(token && { Authorization: `Bearer ${token}` }), ...(body !== undefined && { 'Content-Type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const threadId = unique('thread');
    const { state } = await client.handleMessage(threadId, 'delete a.txt');
    const interruptId = state.currentInterrupt!.id;

    const responses: Array<[string, string, Awaited<ReturnType<typeof call>>]> = [];
    const record = async (method: string, template: string, path: string, body?: unknown, token?: string) => responses.push([template, method, await call(method.toUpperCase(), path, body, token)]);
    for (let tries = 0; tries < 40; tries++) {
      const listed = await call('GET', '/api/approvals');
      if ((listed.body.approvals as Array<{ threadId: string }>).some((approval) => approval.threadId === threadId)) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await record('get', '/api/approvals', '/api/approvals');
    // Why the call exists, and the policy's request for confirmation, travel with the pending approval.
    const pending = (responses[0][2].body.approvals as Array<{ threadId: string }>).find((approval) => approval.threadId === threadId);
    expect(pending).toMatchObject({ confirm: true, policyNote: 'careful', context: { userMessage: 'delete a.txt', agentText: 'I will delete a.txt as asked.' } });
    await record('get', '/api/me', '/api/me');
    await record('get', '/api/threads/{id}', `/api/threads/${threadId}`);
    await record('post', '/api/approvals', '/api/approvals', { threadId, interruptId, approved: true, argsDigest: '0'.repeat(64) });
    await record('post', '/api/approvals', '/api/approvals', { threadId, interruptId, approved: true, reason: 'fine' });
    await record('post', '/api/approvals', '/api/approvals', { threadId, interruptId, approved: false });
    await record('post', '/api/approvals', '/api/approvals', { threadId, interruptId: 'nope', approved: true });
    await record('post', '/api/approvals', '/api/approvals', { threadId, interruptId, approved: 'yes' });
    await record('get', '/api/approvals', '/api/approvals', undefined, 'not-a-valid-token-at-all-000000');
    await client.awaitResponse(threadId);
    await record('get', '/api/threads/{id}/audit', `/api/threads/${threadId}/audit`);
    await record('get', '/api/threads/{id}/audit', `/api/threads/${unique('missing')}/audit`);
    await record('get', '/api/decisions/recent', '/api/decisions/recent?limit=5');
    await record('get', '/api/decisions/recent', '/api/decisions/recent?limit=0');

    expect(responses.map(([, , response]) => response.status)).toEqual([200, 200, 200, 409, 200, 409, 404, 400, 401, 200, 404, 200, 400]);
    const problems = responses.flatMap(([path, method, response]) => check(path, method, response.status, response.body).map((problem) => `${method} ${path} ${response.status}: ${problem}`));
    expect(problems).toEqual([]);
    // The audit says what happened, in the documented shape: the refusals and the decision.
    const audit = responses[9][2].body.entries as Array<{ decision: string }>;
    expect(audit.map((entry) => entry.decision)).toEqual(['accepted', 'refused', 'refused', 'refused']);
    // The recent decisions name it: who decided what, when; refusals are not decisions.
    const recent = responses[11][2].body as { decisions: Array<{ threadId: string; decision: string; approver?: string; toolName: string }>; scannedThreads: number };
    expect(recent.decisions.length).toBeLessThanOrEqual(5);
    expect(recent.decisions.find((entry) => entry.threadId === threadId)).toMatchObject({ decision: 'accepted', approver: 'alice', toolName: 'delete_file' });
    expect(recent.scannedThreads).toBeGreaterThan(0);
    await client.endThread(threadId);
  }).finally(() => service?.close());
});

/** Whether a request body fits the document's request schema for this path and method (errors, or [] when it fits). */
function requestValidator() {
  const doc = openApiDocument() as unknown as { paths: Record<string, Record<string, { requestBody: { content: Record<string, { schema: object }> } }>> };
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  return (path: string, method: string, body: unknown) => {
    const schema = doc.paths[path][method].requestBody.content['application/json'].schema;
    return ajv.validate(schema, body) ? [] : (ajv.errors ?? []).map((error) => `${error.instancePath}: ${error.message}`);
  };
}

/** An agent whose tools record their runs: delete_file (grants capped at 1 h) and make_payment (above 1,000 only finance; no grants). */
function decisionsAgent() {
  const runs: Array<{ tool: string; args: unknown }> = [];
  const record = (tool: string) => (args: unknown) => (runs.push({ tool, args }), `${tool} done`);
  const agent = defineAgent({
    name: 'contract',
    instructions: 'Test agent.',
    tools: [
      defineTool({ name: 'delete_file', description: 'Delete a file', parameters: z.object({ path: z.string() }), execute: record('delete_file') }),
      defineTool({ name: 'make_payment', description: 'Pay', parameters: z.object({ amount: z.number().positive(), to: z.string() }), execute: record('make_payment') }),
    ],
    interrupts: {
      delete_file: { allowAuto: false, note: 'careful', grants: { maxTtl: '1h' } },
      make_payment: {
        allowAuto: false,
        grants: false,
        review: ({ amount }: { amount: number }) => (amount > 1000 ? { ask: true, reason: `amount ${amount} exceeds 1000`, approvers: ['finance'] } : { ask: true, reason: `amount ${amount} needs a person` }),
      },
    },
  });
  return { agent, runs };
}

test('edits, responses, escalations, grants and their refusals validate against the document, requests and responses alike', async () => {
  const check = validator();
  const checkRequest = requestValidator();
  const taskQueue = unique('openapi-decisions');
  const { agent, runs } = decisionsAgent();
  const worker = await createWorker({ agents: [agent], taskQueue, connection: server.nativeConnection, workflowBundle: workflowBundle() });
  const client = new AirlockClient({ client: server.client, taskQueue, defaultAgent: 'contract' });
  const FINANCE = 'openapi-contract-finance-3e8a0d5b71';
  const threads = [unique('contract-delete'), unique('contract-pay')];
  let service: ApprovalServer | undefined;
  await worker.runUntil(async () => {
    service = createApprovalServer({ client, tokens: createApproverTokens({ [TOKEN]: 'alice', [FINANCE]: 'finance' }), log: () => undefined });
    const base = await service.listen({ port: 0 });
    const responses: Array<[string, string, number, unknown]> = [];
    const requestProblems: string[] = [];
    /** Sends a request, checks its body against the document's request schema (`valid`: whether it should fit), records the answer. */
    const call = async (method: 'get' | 'post', template: string, path: string, options: { body?: unknown; token?: string; valid?: boolean } = {}) => {
      if (options.body !== undefined) {
        const problems = checkRequest(template, method, options.body);
        if ((problems.length === 0) !== (options.valid ?? true)) requestProblems.push(`${method} ${template} ${JSON.stringify(options.body)}: ${problems.join(', ') || 'fits, but should not'}`);
      }
      const response = await fetch(`${base}${path}`, {
        method: method.toUpperCase(),
        headers: { Authorization: `Bearer ${options.token ?? TOKEN}`, ...(options.body !== undefined && { 'Content-Type': 'application/json' }) },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
      const body = (await response.json()) as Record<string, any>;
      responses.push([template, method, response.status, body]);
      return { status: response.status, body };
    };
    const listed = async (threadId: string) => {
      for (let tries = 0; tries < 40; tries++) {
        const found = (await call('get', '/api/approvals', '/api/approvals')).body.approvals.find((approval: { threadId: string }) => approval.threadId === threadId);
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      throw new Error(`${threadId} was never listed`);
    };
    const decide = (body: Record<string, unknown>, options: { token?: string; valid?: boolean } = {}) => call('post', '/api/approvals', '/api/approvals', { body, ...options });

    const [deletion, payment] = threads;
    const { state } = await client.handleMessage(deletion, 'delete the file a.txt');
    const interruptId = state.currentInterrupt!.id;
    const pending = await listed(deletion);
    expect(pending).toMatchObject({ grants: true, callDigest: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(pending).not.toHaveProperty('askReason');
    const at = { threadId: deletion, interruptId, callDigest: pending.callDigest };
    expect((await decide({ ...at, action: 'edit', args: { path: 5 } })).status).toBe(422);
    expect((await decide({ ...at, action: 'edit' }, { valid: false })).status).toBe(400);
    expect((await decide({ ...at, action: 'reject', grant: { match: { path: 'a*' } } }, { valid: false })).status).toBe(400);
    expect((await decide({ ...at, action: 'respond', message: 'x', args: { path: 'b' } }, { valid: false })).status).toBe(400);
    expect((await decide({ ...at, approved: true, grant: { match: { path: '*.txt' }, ttl: '2h' } })).status).toBe(403);
    const edited = await decide({ ...at, action: 'edit', args: { path: 'b.txt' }, grant: { match: { path: '*.txt' }, ttl: '30m' } });
    expect(edited.status).toBe(200);
    expect(edited.body.outcome).toMatchObject({ resolution: { type: 'edited' }, grant: { id: `g-${interruptId}` } });
    await client.awaitResponse(deletion);
    expect(runs).toEqual([{ tool: 'delete_file', args: { path: 'b.txt' } }]);
    const grants = `/api/threads/${deletion}/grants`;
    expect((await call('get', '/api/threads/{id}/grants', grants)).status).toBe(200);
    expect((await call('get', '/api/threads/{id}/grants', `/api/threads/${unique('missing')}/grants`)).status).toBe(404);
    const revokePath = `${grants}/g-${interruptId}/revoke`;
    const revokeTemplate = '/api/threads/{id}/grants/{grantId}/revoke';
    expect((await call('post', revokeTemplate, revokePath, { body: { by: 'mallory' }, valid: false })).status).toBe(400);
    expect((await call('post', revokeTemplate, revokePath, { body: { reason: 'done' } })).status).toBe(200);
    expect((await call('post', revokeTemplate, revokePath, { body: {} })).status).toBe(404);

    const paid = await client.handleMessage(payment, 'pay 500 to acme');
    const paymentId = paid.state.currentInterrupt!.id;
    const before = await listed(payment);
    expect(before).toMatchObject({ askReason: 'amount 500 needs a person' });
    expect(before).not.toHaveProperty('grants');
    expect((await decide({ threadId: payment, interruptId: paymentId, action: 'edit', args: { amount: 5000, to: 'acme' }, callDigest: before.callDigest })).status).toBe(202);
    expect((await decide({ threadId: payment, interruptId: paymentId, approved: true, callDigest: before.callDigest }, { token: FINANCE })).status).toBe(409);
    expect((await decide({ threadId: payment, interruptId: paymentId, action: 'respond', message: 'Pay 500, not 5,000.' }, { token: FINANCE })).status).toBe(200);
    await client.awaitResponse(payment);
    expect(runs).toHaveLength(1);
    for (const threadId of threads) expect((await call('get', '/api/threads/{id}/audit', `/api/threads/${threadId}/audit`)).status).toBe(200);
    expect((await call('get', '/api/decisions/recent', '/api/decisions/recent?limit=100')).status).toBe(200);

    const problems = responses.flatMap(([path, method, status, body]) => check(path, method, status, body).map((problem) => `${method} ${path} ${status}: ${problem}`));
    expect(problems).toEqual([]);
    expect(requestProblems).toEqual([]);
    // The audit of both threads in the documented shape: what ran, what was refused, the grant's end.
    const audits = responses.filter(([path]) => path === '/api/threads/{id}/audit').map(([, , , body]) => (body as { entries: Array<{ decision: string }> }).entries.map((entry) => entry.decision));
    expect(audits).toEqual([
      ['edited', 'refused', 'refused', 'grant-revoked'],
      ['responded', 'refused'],
    ]);
    const recent = responses.find(([path]) => path === '/api/decisions/recent')![3] as { decisions: Array<{ threadId: string; decision: string }> };
    expect(recent.decisions.filter((entry) => threads.includes(entry.threadId)).map((entry) => entry.decision).sort()).toEqual(['edited', 'responded']);
    await endThreads(client, threads);
  }).finally(() => service?.close());
});

test('a body that breaks the document is caught (the check can fail)', () => {
  const check = validator();
  const checkRequest = requestValidator();
  expect(checkRequest('/api/approvals', 'post', { threadId: 't', interruptId: 'i', action: 'edit' })).not.toEqual([]);
  expect(checkRequest('/api/approvals', 'post', { threadId: 't', interruptId: 'i', action: 'edit', args: { a: 1 } })).toEqual([]);
  expect(check('/api/approvals', 'post', 202, { outcome: { type: 'applied', interruptId: 'i' } })).not.toEqual([]);
  expect(check('/api/threads/{id}/grants', 'get', 200, { grants: [{ id: 'g-1' }] })).not.toEqual([]);
  expect(check('/api/approvals', 'get', 200, { approvals: [{ id: 1 }] })).not.toEqual([]);
  expect(check('/api/threads/{id}/audit', 'get', 200, { entries: [{ decision: 'maybe' }] })).not.toEqual([]);
  expect(check('/api/decisions/recent', 'get', 200, { decisions: [{ decision: 'accepted' }] })).not.toEqual([]);
});
