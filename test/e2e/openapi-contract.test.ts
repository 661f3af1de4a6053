/**
 * The OpenAPI document is the truth about the API: real responses of a running service (with a
 * real worker and dev server) validate against the schemas the document publishes.
 */
import Ajv2020 from 'ajv/dist/2020';
import { AirlockClient } from '../../src/client';
import { createApprovalServer, createApproverTokens, openApiDocument, type ApprovalServer } from '../../src/server';
import { createWorker } from '../../src/worker';
import { ScriptedModel, callTools, reply } from '../../src/models';
import { connectToDevServer, quietRuntime, unique, workflowBundle } from '../helpers';
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

test('a body that breaks the document is caught (the check can fail)', () => {
  const check = validator();
  expect(check('/api/approvals', 'get', 200, { approvals: [{ id: 1 }] })).not.toEqual([]);
  expect(check('/api/threads/{id}/audit', 'get', 200, { entries: [{ decision: 'maybe' }] })).not.toEqual([]);
  expect(check('/api/decisions/recent', 'get', 200, { decisions: [{ decision: 'accepted' }] })).not.toEqual([]);
});
