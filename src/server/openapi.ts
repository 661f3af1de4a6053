/** The OpenAPI 3.1 description of the approval API, served at `/api/openapi.json`. Request schemas come from zod. */
import { z } from 'zod';
import { ApprovalsQuerySchema, DecisionRequestSchema } from './api-schemas';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } });
const error = (description: string) => json(ref('Error'), description);
const unauthorized = error('No token, or a token no approver has (with `WWW-Authenticate: Bearer`)');
const throttled = {
  ...error('Too many invalid tokens from this client address (`TooManyAttempts`): every request needing a token is refused, unchecked, until the window ends'),
  headers: { 'Retry-After': { description: 'Seconds until the address may try again', schema: { type: 'integer', minimum: 1 } } },
};
const unavailable = error('No worker answered the thread in time (`WorkerUnavailable`)');
const threadParam = { name: 'id', in: 'path', required: true, description: 'The thread id (workflow id)', schema: { type: 'string' } };

const strip = ({ $schema: _schema, ...schema }: Record<string, unknown>) => schema;
const decisionRequest = {
  ...strip(z.toJSONSchema(DecisionRequestSchema, { io: 'input' })),
  // The schema's refinement, which JSON Schema output leaves out: exactly one of the two.
  oneOf: [{ required: ['approved'] }, { required: ['action'] }],
};
const toolQuery = strip(z.toJSONSchema(ApprovalsQuerySchema.shape.tool.unwrap(), { io: 'input' }));

const schemas = {
  Error: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['type', 'message'],
        properties: {
          type: { type: 'string', description: 'InterruptNotFound, InterruptAlreadyDecided, InterruptTimedOut, ThreadEnded, DecisionNotAllowed, DecisionSignatureRequired, DecisionSignatureInvalid, DecisionArgumentsChanged, RequestInvalid, TooManyAttempts, …' },
          message: { type: 'string' },
        },
      },
    },
  },
  PendingApproval: {
    type: 'object',
    required: ['threadId', 'id', 'toolName', 'createdAt'],
    properties: {
      threadId: { type: 'string' },
      agent: { type: 'string' },
      id: { type: 'string', description: 'The interrupt id' },
      toolName: { type: 'string' },
      args: { description: 'The arguments in full (show them with keys sorted). Absent only for approvals written by older versions.' },
      argsDigest: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the canonical JSON of args: send it with the decision to bind it to what was shown' },
      argsPreview: { type: 'string', description: 'Older versions only: JSON of the arguments cut at 500 characters. Never approve on it.' },
      requireSignature: { type: 'boolean', description: 'The policy requires signed decisions' },
      policyNote: { type: 'string' },
      createdAt: { type: 'string', format: 'date-time' },
      deadline: { type: 'string', format: 'date-time' },
      approvers: { type: 'array', items: { type: 'string' }, description: 'Who may decide; absent: any approver' },
    },
  },
  DecisionOutcome: {
    type: 'object',
    required: ['type', 'interruptId', 'resolution'],
    properties: {
      type: { const: 'applied' },
      interruptId: { type: 'string' },
      resolution: {
        type: 'object',
        required: ['type', 'approver', 'at'],
        properties: { type: { enum: ['accepted', 'rejected'] }, approver: { type: 'string' }, reason: { type: 'string' }, at: { type: 'string', format: 'date-time' } },
      },
    },
  },
  ThreadState: {
    type: 'object',
    required: ['threadId', 'agent', 'status', 'messages', 'pendingInterrupts', 'interrupts', 'turn'],
    properties: {
      threadId: { type: 'string' },
      agent: { type: 'string' },
      status: { enum: ['idle', 'running', 'awaiting_approval', 'ended'] },
      messages: { type: 'array', items: { type: 'object', required: ['role'], properties: { role: { enum: ['user', 'assistant', 'tool'] } } } },
      pendingInterrupts: { type: 'array', items: { type: 'object' } },
      interrupts: { type: 'array', items: { type: 'object' } },
      turn: { type: 'integer' },
    },
  },
  AuditEntry: {
    type: 'object',
    required: ['timestamp', 'threadId', 'interruptId', 'toolName', 'decision', 'createdAt'],
    properties: {
      timestamp: { type: 'string', format: 'date-time' },
      threadId: { type: 'string' },
      interruptId: { type: 'string' },
      toolName: { type: 'string' },
      toolArgs: {},
      decision: { enum: ['pending', 'accepted', 'rejected', 'timed-out', 'cancelled', 'refused'] },
      approver: { type: 'string' },
      reason: { type: 'string' },
      result: { type: 'string' },
      createdAt: { type: 'string', format: 'date-time' },
      policyNote: { type: 'string' },
      argsDigest: { type: 'string' },
      sender: { type: 'string', description: 'The Temporal identity that sent the decision (self-declared by the sender)' },
      via: { enum: ['update', 'signal'] },
      signedBy: {
        type: 'object',
        required: ['keyId', 'kind', 'owner'],
        properties: { keyId: { type: 'string' }, kind: { enum: ['approver', 'service'] }, owner: { type: 'string' } },
        description: 'The trusted key whose valid signature the decision carried',
      },
      refusal: { type: 'object', required: ['errorType', 'reason'], properties: { errorType: { type: 'string' }, reason: { type: 'string' } } },
      outcome: { enum: ['accept', 'reject'] },
    },
  },
};

const paths = {
  '/api/approvals': {
    get: {
      summary: 'Interrupts waiting for a decision across threads, oldest first (Temporal visibility: eventually consistent)',
      parameters: [{ name: 'tool', in: 'query', required: false, description: 'Only interrupts of this tool', schema: toolQuery }],
      responses: {
        200: json({ type: 'object', required: ['approvals'], properties: { approvals: { type: 'array', items: ref('PendingApproval') } } }, 'The pending approvals'),
        400: error('A malformed tool name'),
        401: unauthorized,
        429: throttled,
      },
    },
    post: {
      summary: 'Accept or reject an interrupt as the authenticated approver',
      requestBody: { required: true, content: { 'application/json': { schema: decisionRequest } } },
      responses: {
        200: json({ type: 'object', required: ['outcome'], properties: { outcome: ref('DecisionOutcome') } }, 'The decision was applied'),
        400: error('Malformed JSON, wrong types, unknown fields (an `approver` field included), not exactly one of approved/action'),
        401: unauthorized,
        403: error('The policy names the approvers and this one is not among them (`DecisionNotAllowed`), or requires a signed decision the service could not give (`DecisionSignatureRequired`, `DecisionSignatureInvalid`)'),
        404: error('No such thread (`ThreadNotFound`) or interrupt (`InterruptNotFound`)'),
        409: error('Already decided (`InterruptAlreadyDecided`), timed out (`InterruptTimedOut`), the thread ended (`ThreadEnded`), or the interrupt holds other arguments than `argsDigest` names (`DecisionArgumentsChanged`)'),
        413: error('The body is over the size limit'),
        429: throttled,
        503: unavailable,
      },
    },
  },
  '/api/threads/{id}': {
    get: {
      summary: "A thread's state and conversation (needs a running worker)",
      parameters: [threadParam],
      responses: {
        200: json({ type: 'object', required: ['state'], properties: { state: ref('ThreadState') } }, 'The thread'),
        401: unauthorized,
        404: error('No such thread'),
        429: throttled,
        503: unavailable,
      },
    },
  },
  '/api/threads/{id}/audit': {
    get: {
      summary: "A thread's audit trail, rebuilt from its event history",
      parameters: [threadParam],
      responses: {
        200: json({ type: 'object', required: ['entries'], properties: { entries: { type: 'array', items: ref('AuditEntry') } } }, 'The audit trail'),
        401: unauthorized,
        404: error('No such thread'),
        429: throttled,
      },
    },
  },
  '/api/events': {
    get: {
      summary: 'Server-Sent Events: `approvals` ({ approvals: PendingApproval[] }) at connection and on every change; `problem` ({ message }) when visibility cannot be read',
      responses: { 200: { description: 'An event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, 401: unauthorized, 429: throttled },
    },
  },
  '/api/me': {
    get: {
      summary: 'The approver the token belongs to',
      responses: { 200: json({ type: 'object', required: ['approver'], properties: { approver: { type: 'string' } } }, 'The approver'), 401: unauthorized, 429: throttled },
    },
  },
  '/api/openapi.json': { get: { summary: 'This document (no token needed)', security: [], responses: { 200: { description: 'OpenAPI 3.1' } } } },
};

/** The OpenAPI 3.1 document of the approval API. */
export function openApiDocument() {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Airlock approval API',
      version: '1',
      description: 'Decide the interrupts of Airlock agent threads. Every endpoint but this document needs `Authorization: Bearer <approver token>`; the decision is recorded under the name the token belongs to.',
    },
    components: { schemas, securitySchemes: { approverToken: { type: 'http', scheme: 'bearer' } } },
    security: [{ approverToken: [] }],
    paths,
  };
}
