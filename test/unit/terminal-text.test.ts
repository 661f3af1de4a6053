/** What an approver reads in a terminal is what is there: no escape sequence, control or invisible character gets through raw. */
import { PassThrough } from 'node:stream';
import type { AgentResponse, AuditEntry, ChatMessage, DecisionOutcome, HitlInterrupt, ThreadState, ToolGrant } from '../../src/core';
import type { AirlockClient, PendingApproval } from '../../src/client';
import { formatAudit, formatConversation, formatGrants, formatPending, formatResponse } from '../../src/cli/format';
import { runTerminalChat } from '../../src/cli/terminal-chat';
import { terminalSafe } from '../../src/cli/terminal-text';

/** Any character that a terminal would not show as itself (a newline aside). */
const RAW_UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\p{Cf}\u2028\u2029]|\p{Cs}/u;

const LONG_VALUE = `${'a'.repeat(520)}-end-of-long-value`;
/** Arguments written to deceive: hidden text, a recipient placed last, a value too long for a table. */
const HOSTILE_ARGS = {
  to: 'ok@example.com',
  note: '\x1b[8mhidden\x1b[0m \u202Egnp.exe\u202C \u009b2J',
  long: LONG_VALUE,
  zzz_last: 'attacker@evil.test',
};

function expectWholeHostileArgs(output: string): void {
  expect(output).toContain(LONG_VALUE);
  expect(output).toContain('"zzz_last": "attacker@evil.test"');
  expect(output.indexOf('"long"')).toBeLessThan(output.indexOf('"note"'));
  expect(output.indexOf('"to"')).toBeLessThan(output.indexOf('"zzz_last"'));
}

describe('terminalSafe', () => {
  test('shows escape sequences, carriage returns, backspaces, bells and DEL as visible escapes', () => {
    expect(terminalSafe('\x1b[8mhidden\x1b[0m')).toBe('\\u{1b}[8mhidden\\u{1b}[0m');
    expect(terminalSafe('\x1b]0;title\x07')).toBe('\\u{1b}]0;title\\u{7}');
    expect(terminalSafe('rm -rf /\rls')).toBe('rm -rf /\\u{d}ls');
    expect(terminalSafe('evil\b\b\b\bgood')).toBe('evil\\u{8}\\u{8}\\u{8}\\u{8}good');
    expect(terminalSafe('a\tb\x7f\0')).toBe('a\\u{9}b\\u{7f}\\u{0}');
  });

  test('shows C1 controls (a single-byte CSI, NEL) escaped', () => {
    expect(terminalSafe('\u009b2J\u0085x\u0080')).toBe('\\u{9b}2J\\u{85}x\\u{80}');
  });

  test('shows bidi overrides, embeddings, isolates and marks escaped (Trojan Source)', () => {
    expect(terminalSafe('access = "user\u202E \u2066// admin\u2069\u2066"')).toBe('access = "user\\u{202e} \\u{2066}// admin\\u{2069}\\u{2066}"');
    expect(terminalSafe('\u202A\u202B\u202C\u202D\u2067\u2068\u200E\u200F\u061C')).toBe(
      '\\u{202a}\\u{202b}\\u{202c}\\u{202d}\\u{2067}\\u{2068}\\u{200e}\\u{200f}\\u{61c}',
    );
  });

  test('shows zero-width and invisible formatting characters escaped', () => {
    expect(terminalSafe('pay\u200Dpal')).toBe('pay\\u{200d}pal');
    expect(terminalSafe('ad\u00ADmin')).toBe('ad\\u{ad}min');
    expect(terminalSafe('\u200B\u200C\u2060\uFEFF\u180E')).toBe('\\u{200b}\\u{200c}\\u{2060}\\u{feff}\\u{180e}');
    expect(terminalSafe('a\u2028b\u2029c\u3164d')).toBe('a\\u{2028}b\\u{2029}c\\u{3164}d');
    expect(terminalSafe('x\u{E0041}\u{E0042}')).toBe('x\\u{e0041}\\u{e0042}');
  });

  test('shows a run of variation selectors escaped and keeps one after a visible character', () => {
    expect(terminalSafe('\u2764\uFE0F')).toBe('\u2764\uFE0F');
    expect(terminalSafe('ok\uFE00\uFE01\uFE02')).toBe('ok\uFE00\\u{fe01}\\u{fe02}');
    expect(terminalSafe('\uFE0Fstart')).toBe('\\u{fe0f}start');
  });

  test('shows lone surrogates escaped and keeps surrogate pairs', () => {
    expect(terminalSafe('a\uD800b')).toBe('a\\u{d800}b');
    expect(terminalSafe('\uDC00z\uD83D')).toBe('\\u{dc00}z\\u{d83d}');
    expect(terminalSafe('\uD83D\uDE00')).toBe('😀');
  });

  test('escapes newlines unless asked to keep them', () => {
    expect(terminalSafe('one\ntwo')).toBe('one\\ntwo');
    expect(terminalSafe('one\ntwo\r\nthree', { keepNewlines: true })).toBe('one\ntwo\\u{d}\nthree');
  });

  test('leaves ordinary text unchanged: accents, emoji, CJK, Arabic and Hebrew letters, backslashes', () => {
    const ordinary = 'Crème brûlée für Zoë 🎉🔒 删除文件 ファイル 파일 مرحبا بالعالم שלום C:\\temp "quoted" {json: [1, 2]} é';
    expect(terminalSafe(ordinary)).toBe(ordinary);
    expect(terminalSafe(ordinary, { keepNewlines: true })).toBe(ordinary);
  });
});

describe('formatPending', () => {
  const now = Date.parse('2026-01-01T12:00:00.000Z');
  const base = {
    threadId: 'thread\u202E1',
    id: 'call\x1b[2K_1',
    toolName: 'send_email',
    agent: 'assistant',
    policyNote: 'Check the recipient\r\x1b[8m; all fine',
    createdAt: '2026-01-01T11:57:00.000Z',
    deadline: '2026-01-01T13:00:00.000Z',
    approvers: ['alice', 'bob\u200B'],
  };

  test('prints the whole arguments, keys sorted, the last key and a long value included, with nothing raw', () => {
    const approval: PendingApproval = { ...base, args: HOSTILE_ARGS, argsDigest: 'sha256:abc\u202E', requireSignature: true };
    const output = formatPending([approval], now);
    expectWholeHostileArgs(output);
    expect(output).not.toMatch(RAW_UNSAFE);
    expect(output).toContain('\\u{202e}gnp.exe\\u{202c} \\u{9b}2J');
    expect(output).toMatch(/^1 approval pending\.\n\nThread: +thread\\u\{202e\}1\nInterrupt: +call\\u\{1b\}\[2K_1\nTool: +send_email\n/);
    expect(output).toMatch(/\nNote: +Check the recipient\\u\{d\}\\u\{1b\}\[8m; all fine\n/);
    expect(output).toMatch(/\nAge: +3m\n/);
    expect(output).toMatch(/\nApprovers: +alice, bob\\u\{200b\}\nDigest: +sha256:abc\\u\{202e\}\nSignature: +required/);
    expect(output).toContain('\nArguments:\n  {\n    "long": ');
  });

  test('says when an older thread listed only a shortened preview, and escapes it', () => {
    const preview: PendingApproval = { ...base, argsPreview: '{"to":"ok@example.com","note":"\u202Eabc' };
    const output = formatPending([preview], now);
    expect(output).toContain('shortened by an older version; run `airlock show thread\\u{202e}1` to see the full arguments before deciding');
    expect(output).toContain('{"to":"ok@example.com","note":"\\u{202e}abc');
    expect(output).not.toMatch(RAW_UNSAFE);
  });

  test('escapes why the policy asks, the allowed decisions, who edited the call and the model\'s arguments', () => {
    const approval: PendingApproval = {
      ...base,
      args: { to: 'new\u202E@x' },
      askReason: 'amount\x1b[8m hidden',
      allowedDecisions: ['accept', 'edit'],
      originalArgs: HOSTILE_ARGS,
      editedBy: 'mallory\u200B',
      callDigest: 'digest\u202E',
    };
    const output = formatPending([approval], now);
    expect(output).toMatch(/\nAsks because: +amount\\u\{1b\}\[8m hidden\n/);
    expect(output).toMatch(/\nDecisions: +approve, edit only\n/);
    expect(output).toMatch(/\nGrants: +not allowed by the policy\n/);
    expect(output).toMatch(/\nEdited by: +mallory\\u\{200b\} /);
    expect(output).toMatch(/\nCall digest: +digest\\u\{202e\}\n/);
    expect(output).toContain('Arguments (edited):\n  {\n    "to": "new\\u{202e}@x"\n  }\nModel\'s arguments:\n');
    expectWholeHostileArgs(output);
    expect(output).not.toMatch(RAW_UNSAFE);
  });

  test('counts several approvals in a one-line header', () => {
    const approval: PendingApproval = { ...base, args: { path: 'a.txt' } };
    expect(formatPending([approval, approval], now).split('\n')[0]).toBe('2 approvals pending, oldest first.');
  });
});

const interrupt = {
  id: 'i-1\u202E',
  toolName: 'send_email',
  toolArgs: HOSTILE_ARGS,
  policyNote: 'Look\x1b[8m hidden',
  createdAt: '2026-01-01T11:57:00.000Z',
  toolCallId: 'call_1',
  turn: 1,
  policy: { allowAuto: false },
} as HitlInterrupt;

function stateWith(partial: Partial<ThreadState>): ThreadState {
  return { threadId: 't1', agent: 'assistant', status: 'idle', messages: [], pendingInterrupts: [], interrupts: [], turn: 1, ...partial };
}

describe('formatResponse', () => {
  test('shows waiting interrupts with their whole arguments, keys sorted, nothing raw', () => {
    const output = formatResponse('t1\u200F', { content: '', state: stateWith({ status: 'awaiting_approval', pendingInterrupts: [interrupt] }) });
    expect(output).toContain(JSON.stringify(LONG_VALUE));
    expect(output).toContain('"zzz_last":"attacker@evil.test"');
    expect(output).toContain('"long":');
    expect(output.indexOf('"long"')).toBeLessThan(output.indexOf('"to"'));
    expect(output).toContain('\\u{202e}gnp.exe');
    expect(output).toContain('Look\\u{1b}[8m hidden');
    expect(output).toContain('airlock approve t1\\u{200f} i-1\\u{202e}');
    expect(output).not.toMatch(RAW_UNSAFE);
  });

  test("shows the agent's answer with its lines, and the model's error, escaped", () => {
    const answer = formatResponse('t1', { content: 'Done.\nAll \x1b[32mgood\x1b[0m\rfine', state: stateWith({}) });
    expect(answer).toBe('Agent: Done.\nAll \\u{1b}[32mgood\\u{1b}[0m\\u{d}fine');
    const failed = formatResponse('t1', { content: '', state: stateWith({ lastError: { type: 'Bad\u202E', message: 'no\x07', at: '' } }) });
    expect(failed).toBe('The model could not answer: Bad\\u{202e}: no\\u{7}');
  });
});

describe('formatConversation', () => {
  test('escapes every message and shows tool calls as the tool will read them', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'send it\nto \u202Ebob\x1b[2K' },
      {
        role: 'assistant',
        content: 'Sure\u200D',
        toolCalls: [
          { id: 'c1', name: 'send_email', arguments: JSON.stringify(HOSTILE_ARGS) },
          { id: 'c2', name: 'delete_file', arguments: '{"path": "x\x1b[8m' },
        ],
      },
      { role: 'tool', toolCallId: 'c1', name: 'send_email', content: 'Sent\r\x1b[1Afaked' },
    ];
    const output = formatConversation(messages);
    expect(output).toContain('You: send it\nto \\u{202e}bob\\u{1b}[2K');
    expect(output).toContain('Agent: Sure\\u{200d}');
    expect(output).toContain(JSON.stringify(LONG_VALUE));
    expect(output).toContain('"zzz_last":"attacker@evil.test"');
    expect(output.indexOf('"long"')).toBeLessThan(output.indexOf('"zzz_last"'));
    expect(output).toContain('\\u{202e}gnp.exe');
    expect(output).toContain('→ delete_file {"path": "x\\u{1b}[8m');
    expect(output).toContain('[send_email] Sent\\u{d}\\u{1b}[1Afaked');
    expect(output).not.toMatch(RAW_UNSAFE);
  });
});

describe('formatAudit', () => {
  test('escapes every cell of the overview table', () => {
    const entry: AuditEntry = {
      timestamp: '2026-01-01T12:00:00.000Z',
      threadId: 't1',
      interruptId: 'i\x1b[1',
      toolName: 'send_email',
      toolArgs: { to: '\u202Eevil' },
      decision: 'accepted',
      approver: 'alice\u200B',
      reason: 'ok\rno',
      result: 'Sent\x1b[8m',
      createdAt: '2026-01-01T11:00:00.000Z',
    };
    const output = formatAudit([entry]);
    expect(output).toContain('i\\u{1b}[1');
    expect(output).toContain('{"to":"\\u{202e}evil"}');
    expect(output).toMatch(/accepted\s+alice\\u\{200b\}\s+ok\\u\{d\}no\s+Sent\\u\{1b\}\[8m/);
    expect(output).not.toMatch(RAW_UNSAFE);
  });
});

describe('formatAudit and formatGrants: the richer decisions', () => {
  const at = '2026-01-01T12:00:00.000Z';
  test('escapes an edit\'s original arguments, a response, a rule\'s reason, a grant and its end', () => {
    const entries: AuditEntry[] = [
      { timestamp: at, threadId: 't1', interruptId: 'i1', toolName: 'make_payment', toolArgs: { amount: 5 }, originalArgs: { amount: '\u202E500' }, decision: 'edited', approver: 'al\x1b[2Kice', askReason: 'amount\r500', edits: [{ at, approver: 'bob\u200D', args: {}, argsDigest: 'd' }], createdAt: at },
      { timestamp: at, threadId: 't1', interruptId: 'i2', toolName: 'delete_file', toolArgs: { path: 'x' }, decision: 'responded', approver: 'carol', response: 'no\x1b]0;title\x07', createdAt: at },
      { timestamp: at, threadId: 't1', interruptId: 'i3', toolName: 'delete_file', toolArgs: { path: 'a' }, decision: 'accepted', approver: 'dan', grantId: 'g-i3', grant: { id: 'g-i3\u202E', match: { path: 'scratch/\x1b[8m**' } }, createdAt: at },
      { timestamp: at, threadId: 't1', interruptId: '', toolName: 'delete_file', toolArgs: { path: 'b' }, decision: 'allowed', reason: 'grant\u2066 fits', grantId: 'g-\u200Bi3', createdAt: at },
      { timestamp: at, threadId: 't1', interruptId: '', toolName: 'make_payment', toolArgs: { amount: 5 }, decision: 'allowed', reason: 'amount 5\u202E is small', createdAt: at },
      { timestamp: at, threadId: 't1', interruptId: 'i3', toolName: 'delete_file', toolArgs: undefined, decision: 'grant-revoked', approver: 'eve\u2028', reason: 'done\x1b[1A', grantId: 'g-i3\u202E', createdAt: at },
    ];
    const output = formatAudit(entries);
    expect(output).toContain("model's arguments: {\"amount\":\"\\u{202e}500\"}; edited by bob\\u{200d} (escalated);…");
    expect(output).toContain('response: no\\u{1b}]0;title\\u{7}');
    expect(output).toContain('granted g-i3\\u{202e}: path matches scratch/\\u{1b}[8m**');
    expect(output).toMatch(/allowed +grant g-\\u\{200b\}i3 +grant\\u\{2066\} fits/);
    expect(output).toMatch(/allowed +policy rule +amount 5\\u\{202e\} is small/);
    expect(output).toMatch(/grant-revoked +eve\\u\{2028\} +done\\u\{1b\}\[1A .*grant g-i3\\u\{202e\}/);
    expect(output).not.toMatch(RAW_UNSAFE);
  });

  test('lists grants with their state, every cell escaped', () => {
    const grant = (partial: Partial<ToolGrant>): ToolGrant => ({
      id: 'g-1\u202E',
      toolName: 'delete_file',
      match: { path: 'scratch/\x1b[8m**' },
      interruptId: 'i1',
      grantedBy: 'alice\u200B',
      decision: { interruptId: 'i1', action: 'accept', approver: 'alice' },
      decidedOnDigest: 'd',
      createdAt: at,
      uses: 2,
      ...partial,
    });
    const output = formatGrants('t1\u202E', [
      grant({}),
      grant({ expiresAt: '2026-01-01T12:30:00.000Z' }),
      grant({ expiresAt: '2026-01-01T11:30:00.000Z' }),
      grant({ ended: { type: 'revoked', by: 'bob\x1b[2K', reason: 'tidy\u202E', at } }),
    ], Date.parse(at));
    const rows = output.split('\n');
    expect(rows[0]).toMatch(/^GRANT +TOOL +MATCH +GRANTED BY +CREATED +EXPIRES +USES +STATE$/);
    expect(rows[1]).toMatch(/^g-1\\u\{202e\} +delete_file +path=scratch\/\\u\{1b\}\[8m\*\* +alice\\u\{200b\} +\S+ +when revoked +2 +active$/);
    expect(rows[2]).toMatch(/2026-01-01T12:30:00.000Z +2 +active$/);
    expect(rows[3]).toMatch(/2026-01-01T11:30:00.000Z +2 +expired at 2026-01-01T11:30:00.000Z$/);
    expect(rows[4]).toMatch(/revoked by bob\\u\{1b\}\[2K at \S+: tidy\\u\{202e\}$/);
    expect(output).not.toMatch(RAW_UNSAFE);
    expect(formatGrants('t\u202E', [])).toBe('No grants in thread t\\u{202e}.');
    expect(formatGrants('t1', [grant({})], Date.parse(at), false)).toMatch(/ +2 +ended with the thread$/);
  });
});

describe('terminal chat', () => {
  test('shows the approval box, the answer and a refusal escaped, with the whole arguments', async () => {
    const waiting: AgentResponse = { content: '', state: stateWith({ status: 'awaiting_approval', currentInterrupt: interrupt, pendingInterrupts: [interrupt] }) };
    const done: AgentResponse = { content: 'Sent.\n\x1b[1A\x1b[2KNothing was sent', state: stateWith({}) };
    const refusal = Object.assign(new Error('Already decided by \u202Emallory'), { name: 'InterruptAlreadyDecided' });
    const client = {
      getState: async () => Promise.reject(new Error('no thread')),
      handleMessage: async () => waiting,
      decide: async (): Promise<DecisionOutcome> => ({ type: 'refused', interruptId: 'i-1', errorType: refusal.name, reason: refusal.message }),
      awaitResponse: async () => done,
    } as unknown as AirlockClient;
    const input = new PassThrough();
    const output = new PassThrough();
    let transcript = '';
    output.on('data', (chunk: Buffer) => (transcript += chunk.toString()));
    input.end('send it\ny\nexit\n');
    await runTerminalChat({ client, threadId: 't1', agent: 'assistant', approver: 'alice', io: { input, output } });

    expectWholeHostileArgs(transcript);
    expect(transcript).toContain('Interrupt: i-1\\u{202e}');
    expect(transcript).toContain('Note: Look\\u{1b}[8m hidden');
    expect(transcript).toContain('Decision refused (InterruptAlreadyDecided): Already decided by \\u{202e}mallory');
    expect(transcript).toContain('Agent: Sent.\n\\u{1b}[1A\\u{1b}[2KNothing was sent');
    expect(transcript).not.toMatch(RAW_UNSAFE);
  });

  test('offers only the decisions the policy allows, and says which answers count', async () => {
    const limited = { ...interrupt, policy: { allowAuto: false, allowedDecisions: ['reject', 'respond'] } } as HitlInterrupt;
    const sent: unknown[] = [];
    const client = {
      getState: async () => Promise.reject(new Error('no thread')),
      handleMessage: async (): Promise<AgentResponse> => ({ content: '', state: stateWith({ status: 'awaiting_approval', currentInterrupt: limited, pendingInterrupts: [limited] }) }),
      decide: async (_thread: string, decision: unknown): Promise<DecisionOutcome> => (sent.push(decision), { type: 'applied', interruptId: 'i-1', resolution: { type: 'rejected', at: '', approver: 'alice' } }),
      awaitResponse: async (): Promise<AgentResponse> => ({ content: 'Fine.', state: stateWith({}) }),
    } as unknown as AirlockClient;
    const input = new PassThrough();
    const output = new PassThrough();
    let transcript = '';
    output.on('data', (chunk: Buffer) => (transcript += chunk.toString()));
    input.end('do it\ny\ne\nn\n\nexit\n');
    await runTerminalChat({ client, threadId: 't1', agent: 'assistant', approver: 'alice', io: { input, output } });
    const again = "Please answer n (no) or r (respond in the tool's place); exit or quit leaves with the approval pending.";
    expect(transcript).toContain(`Decide (n reject, r respond): y\n${again}\nDecide (n reject, r respond): e\n${again}\nDecide (n reject, r respond): n\nReason (optional): \n`);
    expect(sent).toEqual([{ interruptId: 'i-1\u202E', approver: 'alice', action: 'reject' }]);
  });

  test('escapes why the policy asks, the approvers, an escalation, an edited call and a JSON error at the edit prompt', async () => {
    const asking = { ...interrupt, askReason: 'amount\x1b[8m 500', policy: { allowAuto: false, approvers: ['fin\u202Eance'] } } as HitlInterrupt;
    const edited = { ...asking, toolArgs: { amount: 7 }, originalArgs: HOSTILE_ARGS, edits: [{ at: '', approver: 'mal\u200Blory', args: { amount: 7 }, argsDigest: 'd' }] } as HitlInterrupt;
    const pendingOn = (current: HitlInterrupt): AgentResponse => ({ content: '', state: stateWith({ status: 'awaiting_approval', currentInterrupt: current, pendingInterrupts: [current] }) });
    const outcomes: DecisionOutcome[] = [
      { type: 'escalated', interruptId: 'i-1', interrupt: { ...edited, askReason: 'over\r1000', policy: { allowAuto: false, approvers: ['bo\x1b[2Kss'] } } },
      { type: 'applied', interruptId: 'i-1', resolution: { type: 'responded', at: '', approver: 'alice', message: 'no' } },
    ];
    const responses = [pendingOn(edited), { content: 'Done\u202E.', state: stateWith({}) }];
    const sent: unknown[] = [];
    const client = {
      getState: async () => Promise.reject(new Error('no thread')),
      handleMessage: async () => pendingOn(asking),
      decide: async (_thread: string, decision: unknown) => (sent.push(decision), outcomes.shift()!),
      awaitResponse: async () => responses.shift()!,
    } as unknown as AirlockClient;
    const input = new PassThrough();
    const output = new PassThrough();
    let transcript = '';
    output.on('data', (chunk: Buffer) => (transcript += chunk.toString()));
    input.end('pay it\ne\n{"amount": "\x1b[2J\n{"amount": 7}\nr\nno\nexit\n');
    await runTerminalChat({ client, threadId: 't1', agent: 'assistant', approver: 'alice', io: { input, output } });

    expect(transcript).toContain('Asks because: amount\\u{1b}[8m 500');
    expect(transcript).toContain('Approvers: fin\\u{202e}ance (not you, alice: the thread refuses your decision; exit leaves it pending)');
    expect(transcript).toContain('That is not valid JSON');
    expect(transcript).toContain('it waits for bo\\u{1b}[2Kss (over\\u{d}1000). Nothing ran.');
    expect(transcript).toContain('Edited by: mal\\u{200b}lory (the edited call waits for a stricter approval)');
    expectWholeHostileArgs(transcript);
    expect(transcript).toContain('Agent: Done\\u{202e}.');
    expect(sent).toEqual([
      { interruptId: 'i-1\u202E', approver: 'alice', action: 'edit', args: { amount: 7 } },
      { interruptId: 'i-1\u202E', approver: 'alice', action: 'respond', message: 'no' },
    ]);
    // The input echo aside (the test typed ESC itself), nothing raw reaches the terminal.
    expect(transcript.replace('{"amount": "\x1b[2J\n', '')).not.toMatch(RAW_UNSAFE);
  });
});
