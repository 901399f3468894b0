import { describe, expect, it } from 'vitest';
import { compile, MemorySeenStore, parseBundle, PolicyLoadError, SEEN_ENTRY_COST, type DecisionRequest, type Engine } from '../src/index.js';

const POLICY = `
policy: treasury
appliesTo: { roles: [finance] }
default: block
tools:
  make_payment:
    args:
      payee: { type: string }
      amount: { type: number, minimum: 0 }
  get_balance:
    args: {}
  export_ledger:
    args: {}
signals:
  hours:
    - id: office
      timezone: America/New_York
      from: "09:00"
      to: "18:00"
  novelty:
    # First use of a tool by an agent: the key is the agent and the tool.
    - id: first_use
      tools: ["*"]
      key: [agent, tool]
rules:
  - id: read
    tool: get_balance
    effect: allow
  - id: export-first-time
    tool: export_ledger
    when: novel.first_use
    effect: require_approval
  - id: export-again
    tool: export_ledger
    when: "!novel.first_use"
    effect: allow
  - id: pay-in-hours
    tool: make_payment
    when: hours.office && args.amount <= 1000
    effect: allow
  - id: pay-after-hours
    tool: make_payment
    when: "!hours.office && args.amount <= 1000"
    effect: require_approval
`;

function engineFor(text: string): Engine {
  return compile(parseBundle([{ file: 'treasury.yaml', text }]));
}

const payment = (at: string): DecisionRequest => ({ agent: 'fin-1', role: 'finance', environment: 'production', tool: 'make_payment', args: { payee: 'P-1', amount: 10 }, at });

describe('working hours (signals.hours)', () => {
  const engine = engineFor(POLICY);
  it.each([
    // New York is UTC-5 in winter (EST) and UTC-4 from 8 March 2026 (EDT).
    ['Friday 6 March 08:59 EST', '2026-03-06T13:59:00Z', 'pay-after-hours'],
    ['Friday 6 March 09:00 EST', '2026-03-06T14:00:00Z', 'pay-in-hours'],
    ['Friday 6 March 17:59 EST', '2026-03-06T22:59:59Z', 'pay-in-hours'],
    ['Friday 6 March 18:00 EST', '2026-03-06T23:00:00Z', 'pay-after-hours'],
    ['Saturday 7 March noon EST', '2026-03-07T17:00:00Z', 'pay-after-hours'],
    ['Sunday 8 March noon EDT', '2026-03-08T16:00:00Z', 'pay-after-hours'],
    // After the switch the same UTC time is an hour later on the wall clock.
    ['Monday 9 March 09:00 EDT', '2026-03-09T13:00:00Z', 'pay-in-hours'],
    ['Monday 9 March 08:59 EDT', '2026-03-09T12:59:00Z', 'pay-after-hours'],
    ['Monday 9 March 18:00 EDT', '2026-03-09T22:00:00Z', 'pay-after-hours'],
    // Late Friday in New York is already Saturday in UTC.
    ['Friday 13 March 17:30 EDT (Saturday UTC)', '2026-03-14T00:30:00Z', 'pay-after-hours'],
    ['Friday 13 March 17:30 EDT', '2026-03-13T21:30:00Z', 'pay-in-hours'],
  ])('%s → %s', (_name, at, rule) => {
    expect(engine.decideSync(payment(at)).rule).toBe(rule);
  });

  it('takes the days from the policy', () => {
    const weekend = engineFor(POLICY.replace('from: "09:00"', 'days: [sat, sun]\n      from: "09:00"'));
    expect(weekend.decideSync(payment('2026-03-07T17:00:00Z')).rule).toBe('pay-in-hours');
    expect(weekend.decideSync(payment('2026-03-06T17:00:00Z')).rule).toBe('pay-after-hours');
  });

  it.each([
    ['an unknown time zone', ['timezone: America/New_York', 'timezone: Mars/Olympus'], /IANA time zone/, 'signals.hours[0].timezone'],
    ['a span across midnight', ['to: "18:00"', 'to: "08:00"'], /before `to`/, 'signals.hours[0].to'],
    ['a time that is not a time', ['from: "09:00"', 'from: "9am"'], /time of day/, 'signals.hours[0].from'],
    ['an id a rule uses', ['- id: office', '- id: read'], /already used/, 'signals.hours[0].id'],
  ] as [string, [string, string], RegExp, string][])('refuses %s, naming the place', (_name, [from, to], message, path) => {
    let error: unknown;
    try {
      engineFor(POLICY.replace(from, to));
    } catch (caught) {
      error = caught;
    }
    expect(PolicyLoadError.isInstance(error)).toBe(true);
    // The error about the signal is there, at its place (a renamed id also breaks the rules that read it).
    expect((error as PolicyLoadError).errors.find((e) => message.test(e.message))?.path).toBe(path);
  });
});

describe('first use of a tool (novelty keyed by agent and tool)', () => {
  it('asks for approval the first time an agent uses a tool, and allows it once that call ran', () => {
    const engine = engineFor(POLICY);
    const exportLedger = (agent: string): DecisionRequest => ({ agent, role: 'finance', environment: 'production', tool: 'export_ledger', args: {} });
    expect(engine.decideSync(exportLedger('fin-1')).rule).toBe('export-first-time');
    // Asking again changes nothing: only a call that ran counts as a use.
    expect(engine.decideSync(exportLedger('fin-1')).rule).toBe('export-first-time');
    engine.markExecuted(exportLedger('fin-1'));
    expect(engine.decideSync(exportLedger('fin-1')).rule).toBe('export-again');
    // Per agent, and per tool: another agent's first use still asks.
    expect(engine.decideSync(exportLedger('fin-2')).rule).toBe('export-first-time');
  });
});

describe('statelessDecision (what an edge copy of the engine may answer)', () => {
  const EDGE_POLICY = `
policy: desk
appliesTo: { roles: [finance] }
default: block
tools:
  get_balance: { args: {} }
  pay: { args: { payee: { type: string }, amount: { type: number, minimum: 0 } } }
  export_ledger: { args: {} }
signals:
  hours:
    - { id: office, timezone: Europe/Paris, from: "09:00", to: "18:00" }
  novelty:
    - { id: payee, tools: [pay], key: [agent, args.payee] }
limits:
  - { id: export-rate, tools: [export_ledger], key: [agent], max: 5, window: 1h, effect: block }
rules:
  - { id: read, tool: get_balance, when: hours.office, effect: allow }
  - { id: pay-known, tool: pay, when: "!novel.payee", effect: allow }
  - { id: export, tool: export_ledger, effect: allow }
`;
  const engine = engineFor(EDGE_POLICY);
  const call = (tool: string, args: Record<string, unknown>, at = '2026-03-09T10:00:00Z'): DecisionRequest => ({ agent: 'fin-1', role: 'finance', environment: 'production', tool, args, at });
  it('answers a call the rules alone decide (working hours read the time, not state)', () => {
    expect(engine.statelessDecision(call('get_balance', {}))).toMatchObject({ effect: 'allow', rule: 'read' });
    expect(engine.statelessDecision(call('get_balance', {}, '2026-03-09T20:00:00Z'))).toMatchObject({ effect: 'block', decidedBy: 'default' });
  });
  it('leaves to the server a call that reads a history signal or has a limit to charge', () => {
    expect(engine.statelessDecision(call('pay', { payee: 'P', amount: 1 }))).toBeUndefined();
    expect(engine.statelessDecision(call('export_ledger', {}))).toBeUndefined();
    // And records nothing: the limit is untouched.
    for (let i = 0; i < 5; i++) expect(engine.decideSync(call('export_ledger', {})).effect).toBe('allow');
    expect(engine.decideSync(call('export_ledger', {})).effect).toBe('block');
  });
});

describe('the seen keys of novelty signals are bounded', () => {
  const cost = (key: string) => key.length + SEEN_ENTRY_COST;

  it('forgets the least recently allowed keys past the bound; an allowed call refreshes its key', () => {
    const keys = ['k-aaaa', 'k-bbbb', 'k-cccc', 'k-dddd'];
    const seen = new MemorySeenStore(3 * cost('k-aaaa'));
    seen.add(keys.slice(0, 3));
    expect(keys.slice(0, 3).every((key) => seen.has(key))).toBe(true);
    // k-aaaa allowed again: now the most recent, so k-bbbb is the one forgotten for k-dddd.
    seen.add(['k-aaaa']);
    seen.add(['k-dddd']);
    expect(keys.map((key) => seen.has(key))).toEqual([true, false, true, true]);
    expect(seen.size).toBe(3);
    expect(seen.heldChars).toBe(3 * cost('k-aaaa'));
  });

  it('holds at most its bound whatever is added: 100,000 new keys of random lengths', () => {
    const bound = 50_000;
    const seen = new MemorySeenStore(bound);
    let state = 7;
    const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const recent: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const key = `["p","s","${i}-${'x'.repeat(Math.floor(random() * 300))}"]`;
      seen.add([key]);
      recent.push(key);
      expect(seen.heldChars).toBeLessThanOrEqual(bound);
    }
    // The newest keys are the ones kept, and the count agrees with what is held.
    let held = 0;
    let kept = 0;
    for (let i = recent.length - 1; i >= 0 && seen.has(recent[i] as string); i--) {
      held += cost(recent[i] as string);
      kept++;
    }
    expect(kept).toBe(seen.size);
    expect(held).toBe(seen.heldChars);
  });

  it('a forgotten key reads as novel again: the call needs approval again, never less', () => {
    const seen = new MemorySeenStore(2 * cost(JSON.stringify(['treasury', 'first_use', 'fin-1', 'export_ledger'])));
    const engine = compile(parseBundle([{ file: 'treasury.yaml', text: POLICY }]), { seen });
    const exportLedger = (agent: string): DecisionRequest => ({ agent, role: 'finance', environment: 'production', tool: 'export_ledger', args: {} });
    const balance = (agent: string): DecisionRequest => ({ agent, role: 'finance', environment: 'production', tool: 'get_balance', args: {} });
    expect(engine.decideSync(exportLedger('fin-1')).rule).toBe('export-first-time');
    // The approved export ran: its key is recorded (as the server does when it is redeemed).
    seen.add([JSON.stringify(['treasury', 'first_use', 'fin-1', 'export_ledger'])]);
    expect(engine.decideSync(exportLedger('fin-1')).rule).toBe('export-again');
    // Other agents' first uses fill the bound and push fin-1's key out.
    for (const agent of ['fin-2', 'fin-3', 'fin-4']) expect(engine.decideSync(balance(agent)).effect).toBe('allow');
    expect(engine.decideSync(exportLedger('fin-1')).rule).toBe('export-first-time');
  });
});
