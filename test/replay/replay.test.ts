/**
 * Determinism: recorded histories of earlier versions must replay on today's workflow code, and
 * a thread must work when every workflow task replays its whole history (no workflow cache).
 * Every history in histories/ is listed in CORPUS with what it is there for (test/replay/README.md).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { AirlockClient } from '../../src/client';
import { RESOLVED_AS } from '../../src/core';
import { ScriptedModel, callTools, reply } from '../../src/models';
import { protectedPolicy, recordingAgent } from '../fixtures';
import { connectToDevServer, quietRuntime, unique, withWorker, workflowBundle } from '../helpers';

const HISTORIES = path.join(__dirname, 'histories');

/** An event in proto JSON: its id, its type and one `<type>EventAttributes` object. */
type HistoryEvent = { eventId: string; eventType: string } & Record<string, any>;
/** Written beside each history by scripts/record-history.ts (`<file>.meta.json`). */
interface HistoryMeta {
  scenario: string;
  /** The thread id the recording used: replay must use it, decision signatures cover it. */
  workflowId: string;
  runId: string;
  /** This run's number (1 = the thread's first run) and how many runs the recording has. */
  run: number;
  runs: number;
}

/** Something a history must show in its events. */
interface Shape {
  what: string;
  holds(events: HistoryEvent[]): boolean;
}

const typeOf = (event: HistoryEvent) => event.eventType.replace(/^EVENT_TYPE_/, '');
const activityName = (events: HistoryEvent[], scheduledEventId: string): string | undefined =>
  events.find((event) => event.eventId === scheduledEventId)?.activityTaskScheduledEventAttributes?.activityType?.name;

const has = (type: string): Shape => ({ what: type, holds: (events) => events.some((event) => typeOf(event) === type) });
const endsWith = (type: string): Shape => ({ what: `ends with ${type}`, holds: (events) => typeOf(events[events.length - 1]) === type });
const moreEventsThan = (count: number): Shape => ({ what: `more than ${count} events`, holds: (events) => events.length > count });
const updateAccepted = (name: string): Shape => ({
  what: `WORKFLOW_EXECUTION_UPDATE_ACCEPTED ${name}`,
  holds: (events) => events.some((event) => event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === name),
});
const signaled = (name: string): Shape => ({
  what: `WORKFLOW_EXECUTION_SIGNALED ${name}`,
  holds: (events) => events.some((event) => event.workflowExecutionSignaledEventAttributes?.signalName === name),
});
const marker = (name: string): Shape => ({
  what: `MARKER_RECORDED ${name}`,
  holds: (events) => events.some((event) => event.markerRecordedEventAttributes?.markerName === name),
});
const continuedFromEarlierRun: Shape = {
  what: 'WORKFLOW_EXECUTION_STARTED with continuedExecutionRunId',
  holds: (events) => Boolean(events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId),
};
const toolRunAtTimeout: Shape = {
  what: 'TIMER_FIRED followed by ACTIVITY_TASK_SCHEDULED executeTool',
  holds: (events) => {
    const fired = events.findIndex((event) => typeOf(event) === 'TIMER_FIRED');
    return fired >= 0 && events.slice(fired).some((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'executeTool');
  },
};
/** The activity failed for good: after `attempts` attempts, with a failure of `type`. */
const activityFailed = (activity: string, expected: { attempts?: number; type?: string }): Shape => ({
  what: `ACTIVITY_TASK_FAILED ${activity} ${JSON.stringify(expected)}`,
  holds: (events) =>
    events.some((event) => {
      const failed = event.activityTaskFailedEventAttributes;
      if (!failed || activityName(events, failed.scheduledEventId) !== activity) return false;
      const started = events.find((candidate) => candidate.eventId === failed.startedEventId)?.activityTaskStartedEventAttributes;
      return (
        (expected.attempts === undefined || started?.attempt === expected.attempts) &&
        (expected.type === undefined || failed.failure?.applicationFailureInfo?.type === expected.type)
      );
    }),
});

/** The audit events (memo upserts) of a history, decoded. */
const auditEvents = (events: HistoryEvent[]): Array<Record<string, any>> =>
  events.flatMap((event) => {
    const data = event.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields?.['airlock.audit']?.data;
    if (!data) return [];
    const memo = JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
    // Lean runs write every audit event of a workflow task in one memo: { version: 3, events }.
    return memo.version === 3 ? memo.events : [memo];
  });
/** A lean run: started with input version 3, no version marker. */
const leanRun: Shape = {
  what: 'input version 3 and no core_patch marker',
  holds: (events) =>
    JSON.parse(Buffer.from(events[0].workflowExecutionStartedEventAttributes.input.payloads[0].data, 'base64').toString('utf8')).version === 3 &&
    !events.some((event) => event.markerRecordedEventAttributes?.markerName === 'core_patch'),
};
/** The history records an audit event of this kind (and, for a resolution, of this type; for a grant's end, of this kind of end). */
const audited = (kind: string, type?: string): Shape => ({
  what: `audit event ${kind}${type ? ` ${type}` : ''}`,
  holds: (events) => auditEvents(events).some((event) => event.kind === kind && (type === undefined || event.resolution?.type === type || event.ended?.type === type || event.by === type)),
});

/** Every approval path in one thread (scenario `thread`). */
const everyApprovalPath = [
  moreEventsThan(50),
  updateAccepted('sendMessage'),
  updateAccepted('decide'),
  has('TIMER_FIRED'),
  signaled('decision'),
  signaled('endThread'),
  endsWith('WORKFLOW_EXECUTION_COMPLETED'),
];

/**
 * The corpus: every history in histories/ and what it is here for. A history not listed, or a
 * listed one missing, fails the test (test/replay/README.md says how to add one).
 */
/** The run started with search attributes (the client's agent and status, or a continued run's). */
const startedWithAttributes: Shape = {
  what: 'WORKFLOW_EXECUTION_STARTED with the AirlockAgent search attribute',
  holds: (events) => Boolean(events[0]?.workflowExecutionStartedEventAttributes?.searchAttributes?.indexedFields?.AirlockAgent),
};
/** No search-attribute upsert before the first model turn is scheduled. */
const noUpsertBeforeModel: Shape = {
  what: 'no UPSERT_WORKFLOW_SEARCH_ATTRIBUTES before the first ACTIVITY_TASK_SCHEDULED',
  holds: (events) => {
    const model = events.findIndex((event) => typeOf(event) === 'ACTIVITY_TASK_SCHEDULED');
    return model > 0 && !events.slice(0, model).some((event) => typeOf(event) === 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES');
  },
};
/** The JSON of a payload in a recorded history. */
const payloadJson = (payload: { data?: string } | undefined): any => (payload?.data ? JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) : undefined);
/** The model turns that ran as local activities: their markers' details. */
const localModelTurns = (events: HistoryEvent[]) =>
  events.flatMap((event) => {
    const details = event.markerRecordedEventAttributes?.details;
    return event.markerRecordedEventAttributes?.markerName === 'core_local_activity' && payloadJson(details?.data?.payloads?.[0])?.activity_type === 'callModel'
      ? [event.markerRecordedEventAttributes]
      : [];
  });
/** A version 4 run: input version 4, no core_patch marker, the agent's settings loaded as it starts. */
const version4Run: Shape = {
  what: 'input version 4, no core_patch marker, a loadAgent local activity',
  holds: (events) =>
    payloadJson(events[0].workflowExecutionStartedEventAttributes.input.payloads[0]).version === 4 &&
    !events.some((event) => event.markerRecordedEventAttributes?.markerName === 'core_patch') &&
    events.some((event) => payloadJson(event.markerRecordedEventAttributes?.details?.data?.payloads?.[0])?.activity_type === 'loadAgent'),
};
/** A version 5 run: input version 5, no core_patch marker, the settings loaded as it starts only when it carries grants. */
const version5Run: Shape = {
  what: 'input version 5, no core_patch marker, a loadAgent local activity only in a run that carries grants',
  holds: (events) => {
    const input = payloadJson(events[0].workflowExecutionStartedEventAttributes.input.payloads[0]);
    const loads = events.some((event) => payloadJson(event.markerRecordedEventAttributes?.details?.data?.payloads?.[0])?.activity_type === 'loadAgent');
    return input.version === 5 && !events.some((event) => event.markerRecordedEventAttributes?.markerName === 'core_patch') && loads === Boolean(input.carried?.grants?.length);
  },
};
/** The first model turn brought the agent's settings (version 5): a callModel result with `spec`. */
const settingsWithFirstTurn: Shape = {
  what: 'the first callModel result (marker or activity) holds the agent settings',
  holds: (events) => {
    const first = events.find((event) => localModelTurns([event]).length > 0 || event.activityTaskCompletedEventAttributes);
    const result = first?.markerRecordedEventAttributes?.details?.result?.payloads?.[0] ?? first?.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
    return Boolean(payloadJson(result)?.spec?.interrupts);
  },
};
/** A local turn that found the agent's turns are activities: its marker holds the settings alone, an activity answers. */
const deferredTurn: Shape = {
  what: 'a callModel marker with a deferred result, then a callModel activity',
  holds: (events) => {
    const at = events.findIndex((event) => localModelTurns([event]).length > 0 && payloadJson(event.markerRecordedEventAttributes?.details?.result?.payloads?.[0])?.deferred === true);
    return at >= 0 && events.slice(at).some((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'callModel');
  },
};
/** The client asked for compact replies: sendMessage results in form 2. */
const compactReplies: Shape = {
  what: 'sendMessage Update results in a compact form (form 2, 3 from input version 6 on, 4 from reply form 4 on)',
  holds: (events) => {
    const sendMessages = new Set(events.filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'sendMessage').map((event) => event.eventId));
    return events.some((event) => {
      const done = event.workflowExecutionUpdateCompletedEventAttributes;
      return done && sendMessages.has(done.acceptedEventId) && [2, 3, 4].includes(payloadJson(done.outcome?.success?.payloads?.[0])?.form);
    });
  },
};
/** The result of an Update named `name`, for each one in the history. */
function updateResults(events: HistoryEvent[], name: string): Array<Record<string, unknown>> {
  const accepted = new Set(events.filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === name).map((event) => event.eventId));
  return events.flatMap((event) => {
    const done = event.workflowExecutionUpdateCompletedEventAttributes;
    return done && accepted.has(done.acceptedEventId) ? [payloadJson(done.outcome?.success?.payloads?.[0])] : [];
  });
}
/** Reply form 4: replies without what the rest of them gives, and awaitResponse results that leave out the resolutions its client held (known: 2). */
const form4Replies: Shape = {
  what: 'sendMessage results in form 4, and an awaitResponse result with known: 2 (the client held its decisions\' resolutions)',
  holds: (events) => updateResults(events, 'sendMessage').some((result) => result?.form === 4) && updateResults(events, 'awaitResponse').some((result) => result?.known === 2),
};
/** Reply form 4: a decide result in the outcome's form 3, which leaves out what the decision gives. */
const compactOutcomes: Shape = {
  what: "a decide result in form 3 (no type, resolution type or approver the decision gives)",
  holds: (events) => updateResults(events, 'decide').some((result) => result?.form === 3 && !('type' in result)),
};
/** Version 6: a local turn echoes a tool result that answers the first open call as its role alone. */
const bareToolEchoes: Shape = {
  what: 'a callModel marker echoing a tool result as { role: "tool" } alone',
  holds: (events) => localModelTurns(events).some((marker) => (payloadJson(marker.details?.result?.payloads?.[0])?.given?.added ?? []).some((message: Record<string, unknown>) => message.role === 'tool' && Object.keys(message).length === 1)),
};
/** This release's threads: version 5 as recorded, with input version 6. */
const version6Run: Shape = {
  what: 'input version 6, no core_patch marker, a loadAgent local activity only in a run that carries grants',
  holds: (events) => version5Run.holds(events.map((event, index) => (index === 0 ? withInputVersion(event, 5) : event))) && payloadJson(events[0].workflowExecutionStartedEventAttributes.input.payloads[0]).version === 6,
};
function withInputVersion(started: HistoryEvent, version: number): HistoryEvent {
  const attributes = started.workflowExecutionStartedEventAttributes;
  const input = { ...payloadJson(attributes.input.payloads[0]), version };
  return { ...started, workflowExecutionStartedEventAttributes: { ...attributes, input: { payloads: [{ ...attributes.input.payloads[0], data: Buffer.from(JSON.stringify(input)).toString('base64') }] } } } as HistoryEvent;
}
/** Version 6: the tool activity's input names its turn, not its thread, idempotency key or interrupt. */
const compactToolInput: Shape = {
  what: 'executeTool inputs with a turn and no threadId, idempotencyKey or interruptId',
  holds: (events) => {
    const inputs = events.flatMap((event) => (event.activityTaskScheduledEventAttributes?.activityType?.name === 'executeTool' ? [payloadJson(event.activityTaskScheduledEventAttributes.input.payloads[0])] : []));
    return inputs.length > 0 && inputs.every((input) => Number.isInteger(input.turn) && !('threadId' in input) && !('idempotencyKey' in input) && !('interruptId' in input));
  },
};
/** Version 6: a local turn echoes a tool result without its text, which the tool activity's result records. */
const toolOutputsOnce: Shape = {
  what: 'a callModel marker echoing a tool result without its text',
  holds: (events) => localModelTurns(events).some((marker) => (payloadJson(marker.details?.result?.payloads?.[0])?.given?.added ?? []).some((message: Record<string, unknown>) => message.role === 'tool' && !('content' in message))),
};
/** A local turn whose calls were each just the message's, valid: no list of checked calls (`turn-result-form.ts`). */
const callListLeftOut: Shape = {
  what: 'a callModel marker whose message calls tools and that records no list of checked calls',
  holds: (events) =>
    localModelTurns(events).some((marker) => {
      const result = payloadJson(marker.details?.result?.payloads?.[0]);
      return result?.message?.toolCalls?.length > 0 && !('toolCalls' in result);
    }),
};
/** Version 6: the pending memo in its third form, an interrupt marked as opened in it. */
const compactPendingMemo: Shape = {
  what: 'a pending memo of version 3 with an interrupt marked opened',
  holds: (events) =>
    events.some((event) => {
      const memo = payloadJson(event.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields?.['airlock.pending']);
      return memo?.version === 3 && memo.interrupts.some((summary: { opened?: number }) => summary.opened === 1);
    }),
};
/** A local turn's marker says nothing twice: a valid call without the arguments its message holds (`turn-result-form.ts`). */
const callsWithoutRepeats: Shape = {
  what: 'a callModel marker with a valid call that leaves out its arguments',
  holds: (events) =>
    localModelTurns(events).some((marker) => (payloadJson(marker.details?.result?.payloads?.[0])?.toolCalls ?? []).some((call: { status?: string }) => call.status === 'valid' && !('args' in call))),
};
/** An awaitResponse whose client said what it held: the reply leaves that out. */
const knownReplies: Shape = {
  what: 'an awaitResponse Update result that leaves out what the client held (known: 1)',
  holds: (events) => {
    const awaits = new Set(events.filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'awaitResponse').map((event) => event.eventId));
    return events.some((event) => {
      const done = event.workflowExecutionUpdateCompletedEventAttributes;
      return done && awaits.has(done.acceptedEventId) && payloadJson(done.outcome?.success?.payloads?.[0])?.known === 1;
    });
  },
};
/** Every model turn a local activity (one marker each), none an activity. */
const modelTurnsLocal: Shape = {
  what: 'callModel markers (local activities) and no callModel activity',
  holds: (events) => localModelTurns(events).length > 0 && !events.some((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'callModel'),
};
/** Every model turn an activity (the worker's model said so), none a local activity. */
const modelTurnsActivities: Shape = {
  what: 'callModel activities and no callModel marker',
  holds: (events) => localModelTurns(events).length === 0 && events.some((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'callModel'),
};
/** A run continued from another, whose input carries the last exchange (this release on). */
const carriesLastExchange: Shape = {
  what: 'a start input carrying the last exchange',
  holds: (events) => Array.isArray(payloadJson(events[0].workflowExecutionStartedEventAttributes.input.payloads[0]).carried?.lastExchange?.interrupts),
};
/** Local model turns do not echo the previous turn's reply: its marker holds it (this release on). */
const repliesRecordedOnce: Shape = {
  what: 'no local model turn echoes the reply of the turn before it',
  holds: (events) => {
    const results = localModelTurns(events)
      .map((marker) => payloadJson(marker.details?.result?.payloads?.[0]))
      .filter((result) => result?.message);
    const followed = results.slice(1).filter((result) => result.given);
    return (
      followed.length > 0 &&
      results.slice(1).every((result, index) => !(result.given?.added ?? []).some((message: unknown) => JSON.stringify(message) === JSON.stringify(results[index].message)))
    );
  },
};
/** A local model turn that failed for good, with a failure of `type`. */
const localModelTurnFailed = (type: string): Shape => ({
  what: `callModel marker with a ${type} failure`,
  holds: (events) => localModelTurns(events).some((marker) => marker.failure?.applicationFailureInfo?.type === type),
});
/**
 * A resolution of this type: an audit event, or (version 4) the result of the decide Update that
 * applied it (in the outcome's form 3, the type its request's action leads to).
 */
const resolved = (type: string): Shape => ({
  what: `interrupt resolved ${type} (audit event or decide Update result)`,
  holds: (events) => {
    const actions = new Map(events.flatMap((event) => {
      const request = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
      return request?.input?.name === 'decide' ? [[String(event.eventId), payloadJson(request.input.args?.payloads?.[0])?.action]] : [];
    }));
    return (
      audited('interrupt-resolved', type).holds(events) ||
      events.some((event) => {
        const done = event.workflowExecutionUpdateCompletedEventAttributes;
        const result = payloadJson(done?.outcome?.success?.payloads?.[0]);
        return result?.resolution !== undefined && (result.resolution.type ?? RESOLVED_AS[actions.get(String(done!.acceptedEventId))]) === type;
      })
    );
  },
});

/** What a history that uses every decision type shows, in either shape. */
const everyDecision = [
  audited('call-allowed', 'rule'),
  audited('call-allowed', 'grant'),
  audited('decision-refused'),
  audited('interrupt-edited'),
  audited('interrupt-resolved', 'accepted'),
  audited('interrupt-resolved', 'edited'),
  audited('interrupt-resolved', 'responded'),
  audited('interrupt-resolved', 'rejected'),
  audited('grant-issued'),
  audited('grant-ended', 'expired'),
  audited('grant-ended', 'revoked'),
  updateAccepted('revokeGrant'),
  has('TIMER_FIRED'),
];

/** The same in a version 4 history, where a resolution applied by the decide Update is in its result. */
const everyDecisionV4 = everyDecision.map((shape) => {
  const match = /^audit event interrupt-resolved (\w+)$/.exec(shape.what);
  return match ? resolved(match[1]) : shape;
});

const CORPUS: Record<string, Shape[]> = {
  'thread-v1.json': everyApprovalPath,
  'thread-v2.json': [...everyApprovalPath, marker('core_patch')],
  'continue-as-new-v2.run1.json': [updateAccepted('decide'), endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v2.run2.json': [continuedFromEarlierRun, endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v2.run3.json': [continuedFromEarlierRun, updateAccepted('decide'), endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v2.run4.json': [continuedFromEarlierRun, signaled('endThread'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'on-timeout-accept-v2.json': [toolRunAtTimeout, has('TIMER_CANCELED'), updateAccepted('decide')],
  'failures-v2.json': [
    activityFailed('executeTool', { attempts: 2 }),
    activityFailed('callModel', { type: 'ModelRequestRejected' }),
    endsWith('WORKFLOW_EXECUTION_COMPLETED'),
  ],
  'message-signal-v2.json': [signaled('userMessage'), signaled('decision'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'thread-v3.json': [...everyApprovalPath, leanRun],
  'continue-as-new-v3.run1.json': [leanRun, updateAccepted('decide'), endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v3.run2.json': [leanRun, continuedFromEarlierRun, endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v3.run3.json': [leanRun, continuedFromEarlierRun, endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v3.run4.json': [leanRun, continuedFromEarlierRun, signaled('endThread'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'on-timeout-accept-v3.json': [leanRun, toolRunAtTimeout, has('TIMER_CANCELED'), updateAccepted('decide')],
  'failures-v3.json': [
    leanRun,
    activityFailed('executeTool', { attempts: 2 }),
    activityFailed('callModel', { type: 'ModelRequestRejected' }),
    endsWith('WORKFLOW_EXECUTION_COMPLETED'),
  ],
  'message-signal-v3.json': [leanRun, signaled('userMessage'), signaled('decision'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'decisions-v3.json': [
    leanRun,
    ...everyDecision,
    endsWith('WORKFLOW_EXECUTION_COMPLETED'),
  ],
  'decisions-v1.json': [
    ...everyDecision,
    marker('core_local_activity'),
    endsWith('WORKFLOW_EXECUTION_COMPLETED'),
  ],
  // Started by the client with the agent and status as search attributes.
  'thread-v3-attrs.json': [...everyApprovalPath, leanRun, startedWithAttributes, noUpsertBeforeModel],
  'continue-as-new-v3-attrs.run1.json': [leanRun, startedWithAttributes, noUpsertBeforeModel, updateAccepted('decide'), endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v3-attrs.run2.json': [leanRun, continuedFromEarlierRun, startedWithAttributes, endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v3-attrs.run3.json': [leanRun, continuedFromEarlierRun, endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v3-attrs.run4.json': [leanRun, continuedFromEarlierRun, signaled('endThread'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'on-timeout-accept-v3-attrs.json': [leanRun, startedWithAttributes, noUpsertBeforeModel, toolRunAtTimeout, has('TIMER_CANCELED'), updateAccepted('decide')],
  'failures-v3-attrs.json': [
    leanRun,
    startedWithAttributes,
    noUpsertBeforeModel,
    activityFailed('executeTool', { attempts: 2 }),
    activityFailed('callModel', { type: 'ModelRequestRejected' }),
    endsWith('WORKFLOW_EXECUTION_COMPLETED'),
  ],
  'message-signal-v3-attrs.json': [leanRun, startedWithAttributes, signaled('userMessage'), signaled('decision'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'decisions-v3-attrs.json': [leanRun, startedWithAttributes, noUpsertBeforeModel, ...everyDecision, endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  // Version 4: the agent's settings loaded as each run starts, model turns as local activities
  // (the scripted model answers at once) or, recorded with AIRLOCK_RECORD_MODEL_TURNS=activity, as
  // activities; resolutions applied by the decide Update are in its result, not the audit memo.
  'thread-v4.json': [...everyApprovalPath, version4Run, modelTurnsLocal, startedWithAttributes],
  'continue-as-new-v4.run1.json': [version4Run, modelTurnsLocal, startedWithAttributes, updateAccepted('decide'), endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v4.run2.json': [version4Run, modelTurnsLocal, continuedFromEarlierRun, endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v4.run3.json': [version4Run, modelTurnsLocal, continuedFromEarlierRun, signaled('endThread'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'on-timeout-accept-v4.json': [version4Run, modelTurnsLocal, toolRunAtTimeout, has('TIMER_CANCELED'), updateAccepted('decide')],
  'failures-v4.json': [version4Run, activityFailed('executeTool', { attempts: 2 }), localModelTurnFailed('ModelRequestRejected'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'message-signal-v4.json': [version4Run, modelTurnsLocal, signaled('userMessage'), signaled('decision'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'decisions-v4.json': [version4Run, modelTurnsLocal, ...everyDecisionV4, endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'thread-v4-reply-once.json': [...everyApprovalPath, version4Run, modelTurnsLocal, repliesRecordedOnce, startedWithAttributes],
  'continue-as-new-v4-reply-once.run1.json': [version4Run, modelTurnsLocal, repliesRecordedOnce, startedWithAttributes, updateAccepted('decide'), endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v4-reply-once.run2.json': [version4Run, modelTurnsLocal, repliesRecordedOnce, continuedFromEarlierRun, endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v4-reply-once.run3.json': [version4Run, modelTurnsLocal, continuedFromEarlierRun, signaled('endThread'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'on-timeout-accept-v4-reply-once.json': [version4Run, modelTurnsLocal, repliesRecordedOnce, toolRunAtTimeout, has('TIMER_CANCELED'), updateAccepted('decide')],
  'failures-v4-reply-once.json': [version4Run, repliesRecordedOnce, activityFailed('executeTool', { attempts: 2 }), localModelTurnFailed('ModelRequestRejected'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'message-signal-v4-reply-once.json': [version4Run, modelTurnsLocal, repliesRecordedOnce, signaled('userMessage'), signaled('decision'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'decisions-v4-reply-once.json': [version4Run, modelTurnsLocal, repliesRecordedOnce, ...everyDecisionV4, endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'continue-as-new-v4-last-exchange.run1.json': [version4Run, modelTurnsLocal, repliesRecordedOnce, updateAccepted('decide'), endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v4-last-exchange.run2.json': [version4Run, modelTurnsLocal, carriesLastExchange, continuedFromEarlierRun, endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v4-last-exchange.run3.json': [version4Run, carriesLastExchange, continuedFromEarlierRun, signaled('endThread'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'thread-v4-activity.json': [...everyApprovalPath, version4Run, modelTurnsActivities],
  'continue-as-new-v4-activity.run1.json': [version4Run, modelTurnsActivities, updateAccepted('decide'), endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v4-activity.run2.json': [version4Run, modelTurnsActivities, continuedFromEarlierRun, endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v4-activity.run3.json': [version4Run, modelTurnsActivities, continuedFromEarlierRun, endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v4-activity.run4.json': [version4Run, continuedFromEarlierRun, signaled('endThread'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'on-timeout-accept-v4-activity.json': [version4Run, modelTurnsActivities, toolRunAtTimeout, has('TIMER_CANCELED'), updateAccepted('decide')],
  'failures-v4-activity.json': [
    version4Run,
    activityFailed('executeTool', { attempts: 2 }),
    activityFailed('callModel', { type: 'ModelRequestRejected' }),
    endsWith('WORKFLOW_EXECUTION_COMPLETED'),
  ],
  'message-signal-v4-activity.json': [version4Run, modelTurnsActivities, signaled('userMessage'), signaled('decision'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'decisions-v4-activity.json': [version4Run, modelTurnsActivities, ...everyDecisionV4, endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  // Version 5: no settings loaded as a run starts unless it carries grants, the first model turn
  // brings them (a local turn that defers to an activity when the agent's turns are activities);
  // compact replies, as the client asks for them.
  'thread-v5.json': [...everyApprovalPath, version5Run, settingsWithFirstTurn, modelTurnsLocal, compactReplies, startedWithAttributes],
  'continue-as-new-v5.run1.json': [version5Run, settingsWithFirstTurn, modelTurnsLocal, compactReplies, updateAccepted('decide'), endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v5.run2.json': [version5Run, settingsWithFirstTurn, modelTurnsLocal, continuedFromEarlierRun, carriesLastExchange, endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v5.run3.json': [version5Run, continuedFromEarlierRun, signaled('endThread'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'on-timeout-accept-v5.json': [version5Run, settingsWithFirstTurn, modelTurnsLocal, toolRunAtTimeout, has('TIMER_CANCELED'), updateAccepted('decide')],
  'failures-v5.json': [version5Run, activityFailed('executeTool', { attempts: 2 }), localModelTurnFailed('ModelRequestRejected'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'message-signal-v5.json': [version5Run, settingsWithFirstTurn, modelTurnsLocal, signaled('userMessage'), signaled('decision'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'decisions-v5.json': [version5Run, settingsWithFirstTurn, modelTurnsLocal, compactReplies, ...everyDecisionV4, endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'thread-v6.json': [callListLeftOut, toolOutputsOnce, ...everyApprovalPath, version6Run, settingsWithFirstTurn, modelTurnsLocal, compactReplies, callsWithoutRepeats, knownReplies, compactToolInput, compactPendingMemo, startedWithAttributes],
  'continue-as-new-v6.run1.json': [callListLeftOut, toolOutputsOnce, version6Run, settingsWithFirstTurn, modelTurnsLocal, compactReplies, compactToolInput, compactPendingMemo, updateAccepted('decide'), endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v6.run2.json': [callListLeftOut, toolOutputsOnce, version6Run, settingsWithFirstTurn, modelTurnsLocal, continuedFromEarlierRun, carriesLastExchange, endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v6.run3.json': [version6Run, continuedFromEarlierRun, signaled('endThread'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'on-timeout-accept-v6.json': [callListLeftOut, toolOutputsOnce, version6Run, settingsWithFirstTurn, modelTurnsLocal, compactToolInput, compactPendingMemo, toolRunAtTimeout, has('TIMER_CANCELED'), updateAccepted('decide')],
  'failures-v6.json': [version6Run, compactToolInput, activityFailed('executeTool', { attempts: 2 }), localModelTurnFailed('ModelRequestRejected'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'message-signal-v6.json': [callListLeftOut, toolOutputsOnce, version6Run, settingsWithFirstTurn, modelTurnsLocal, compactPendingMemo, signaled('userMessage'), signaled('decision'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'decisions-v6.json': [callListLeftOut, toolOutputsOnce, version6Run, settingsWithFirstTurn, modelTurnsLocal, compactReplies, callsWithoutRepeats, knownReplies, compactToolInput, compactPendingMemo, ...everyDecisionV4, endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  // Reply form 4 (the client's replies and outcomes), tool results echoed bare, the tool activity without a list of non-retryable errors.
  'thread-v6-form4.json': [callListLeftOut, toolOutputsOnce, bareToolEchoes, ...everyApprovalPath, version6Run, settingsWithFirstTurn, modelTurnsLocal, compactReplies, form4Replies, compactOutcomes, callsWithoutRepeats, compactToolInput, compactPendingMemo, startedWithAttributes],
  'continue-as-new-v6-form4.run1.json': [callListLeftOut, toolOutputsOnce, version6Run, settingsWithFirstTurn, modelTurnsLocal, compactReplies, compactOutcomes, compactToolInput, compactPendingMemo, updateAccepted('decide'), endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v6-form4.run2.json': [callListLeftOut, toolOutputsOnce, version6Run, settingsWithFirstTurn, modelTurnsLocal, continuedFromEarlierRun, carriesLastExchange, endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v6-form4.run3.json': [version6Run, continuedFromEarlierRun, signaled('endThread'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'on-timeout-accept-v6-form4.json': [callListLeftOut, toolOutputsOnce, version6Run, settingsWithFirstTurn, modelTurnsLocal, compactToolInput, compactPendingMemo, toolRunAtTimeout, has('TIMER_CANCELED'), updateAccepted('decide')],
  'failures-v6-form4.json': [version6Run, compactToolInput, activityFailed('executeTool', { attempts: 2 }), localModelTurnFailed('ModelRequestRejected'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'message-signal-v6-form4.json': [callListLeftOut, toolOutputsOnce, version6Run, settingsWithFirstTurn, modelTurnsLocal, compactPendingMemo, signaled('userMessage'), signaled('decision'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'decisions-v6-form4.json': [callListLeftOut, toolOutputsOnce, bareToolEchoes, version6Run, settingsWithFirstTurn, modelTurnsLocal, compactReplies, form4Replies, compactOutcomes, callsWithoutRepeats, compactToolInput, compactPendingMemo, ...everyDecisionV4, endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'thread-v5-activity.json': [...everyApprovalPath, version5Run, settingsWithFirstTurn, deferredTurn, compactReplies],
  'continue-as-new-v5-activity.run1.json': [version5Run, deferredTurn, updateAccepted('decide'), endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v5-activity.run2.json': [version5Run, deferredTurn, continuedFromEarlierRun, endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v5-activity.run3.json': [version5Run, deferredTurn, continuedFromEarlierRun, endsWith('WORKFLOW_EXECUTION_CONTINUED_AS_NEW')],
  'continue-as-new-v5-activity.run4.json': [version5Run, continuedFromEarlierRun, signaled('endThread'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'on-timeout-accept-v5-activity.json': [version5Run, deferredTurn, toolRunAtTimeout, has('TIMER_CANCELED'), updateAccepted('decide')],
  'failures-v5-activity.json': [version5Run, deferredTurn, activityFailed('executeTool', { attempts: 2 }), activityFailed('callModel', { type: 'ModelRequestRejected' }), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'message-signal-v5-activity.json': [version5Run, deferredTurn, signaled('userMessage'), signaled('decision'), endsWith('WORKFLOW_EXECUTION_COMPLETED')],
  'decisions-v5-activity.json': [version5Run, deferredTurn, compactReplies, ...everyDecisionV4, endsWith('WORKFLOW_EXECUTION_COMPLETED')],
};

const histories = readdirSync(HISTORIES).filter((file) => file.endsWith('.json') && !file.endsWith('.meta.json'));
const readJson = (file: string) => JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8'));
const readHistory = (file: string): { events: HistoryEvent[] } => readJson(file);
const readMeta = (file: string): HistoryMeta => readJson(file.replace(/\.json$/, '.meta.json'));

beforeAll(() => quietRuntime());

test('the corpus table lists exactly the histories in histories/, each with its meta file', () => {
  const metas = readdirSync(HISTORIES).filter((file) => file.endsWith('.meta.json'));
  expect({
    notInTable: histories.filter((file) => !CORPUS[file]),
    missing: Object.keys(CORPUS).filter((file) => !histories.includes(file)),
    withoutMeta: histories.filter((file) => !metas.includes(file.replace(/\.json$/, '.meta.json'))),
    metaWithoutHistory: metas.filter((meta) => !histories.includes(meta.replace(/\.meta\.json$/, '.json'))),
  }).toEqual({ notInTable: [], missing: [], withoutMeta: [], metaWithoutHistory: [] });
});

test.each(histories)('recorded history %s replays without nondeterminism', async (file) => {
  const history = readHistory(file);
  const meta = readMeta(file);
  // The meta file names the run this history is; where the server wrote the ids into it, they agree.
  const started = history.events[0].workflowExecutionStartedEventAttributes;
  expect({ workflowId: started.workflowId ?? meta.workflowId, runId: started.originalExecutionRunId ?? meta.runId }).toEqual({
    workflowId: meta.workflowId,
    runId: meta.runId,
  });
  await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history, meta.workflowId);
});

test.each(histories)('recorded history %s holds the events it is in the corpus for', (file) => {
  const shapes = CORPUS[file];
  if (!shapes) throw new Error(`${file} is not in the CORPUS table of ${path.basename(__filename)}: add it with what it is in the corpus for`);
  const events = readHistory(file).events;
  expect(shapes.filter((shape) => !shape.holds(events)).map((shape) => shape.what)).toEqual([]);
});

test('every run of a thread that continued as new is recorded, in one chain', () => {
  const byThread = new Map<string, Array<{ file: string; meta: HistoryMeta }>>();
  for (const file of histories) {
    const meta = readMeta(file);
    byThread.set(meta.workflowId, [...(byThread.get(meta.workflowId) ?? []), { file, meta }]);
  }
  for (const runs of byThread.values()) {
    runs.sort((a, b) => a.meta.run - b.meta.run);
    expect(runs.map(({ meta }) => meta.run)).toEqual(Array.from({ length: runs[0].meta.runs }, (_, index) => index + 1));
    runs.forEach(({ file, meta }, index) => {
      const events = readHistory(file).events;
      const continuedFrom = events[0].workflowExecutionStartedEventAttributes.continuedExecutionRunId;
      const continuedAs = events[events.length - 1].workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
      expect({ file, continuedFrom, continuedAs }).toEqual({ file, continuedFrom: runs[index - 1]?.meta.runId, continuedAs: runs[index + 1]?.meta.runId });
      expect(meta.runs).toBe(runs.length);
    });
  }
});

test('a thread works when every workflow task replays from history (maxCachedWorkflows: 0)', async () => {
  const server = await connectToDevServer();
  try {
    const taskQueue = unique('replay');
    const threadId = unique('thread');
    const fixture = recordingAgent({ delete_file: protectedPolicy(), send_email: protectedPolicy() });
    const model = new ScriptedModel([
      callTools(['delete_file', { path: 'a' }, 'c1'], ['lookup', { q: 'b' }, 'c2'], ['send_email', { to: 'x@y.co', subject: 's' }, 'c3']),
      reply('Done.'),
    ]);
    const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: fixture.agent.name });
    const options = { agents: [fixture.agent], model, taskQueue, connection: server.nativeConnection, workerOptions: { maxCachedWorkflows: 0 } };
    await withWorker(options, async () => {
      const first = await airlock.handleMessage(threadId, 'go');
      const [del, email] = first.state.pendingInterrupts;
      await airlock.decide(threadId, { interruptId: del.id, action: 'accept', approver: 'alice' });
      await airlock.sendDecision(threadId, { interruptId: email.id, action: 'reject', approver: 'bob' });
      const final = await airlock.awaitResponse(threadId);
      expect(final.content).toBe('Done.');
    });
    expect(fixture.ran('delete_file')).toHaveLength(1);
    expect(fixture.ran('lookup')).toHaveLength(1);
    expect(fixture.ran('send_email')).toHaveLength(0);
    await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, await airlock.handle(threadId).fetchHistory(), threadId);
  } finally {
    await server.close();
  }
});
