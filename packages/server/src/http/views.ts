import { DECISION_ERROR_CODES } from '@airlock/core';
import { z } from 'zod';
import type { DecisionEvent as DecisionEventView } from '../services/events.js';

/**
 * The shapes the API answers with, as zod: the source of the OpenAPI document's response schemas
 * (named ones become `components.schemas`). Routes declare them as `response`, and the route's
 * handler must return something that fits (checked by the compiler, see RouteDef), so the
 * document cannot promise more than the services return. Clients (dashboard, CLI, SDK) read the
 * types generated from the document: packages/sdk/src/api/openapi.ts (`npm run api:types`).
 */

const effect = z.enum(['allow', 'require_approval', 'block']);
const args = z.record(z.string(), z.unknown());
const iso = z.string();
const timeoutAction = z.enum(['escalate', 'block', 'allow']);
const approvalStatus = z.enum(['pending', 'approved', 'denied', 'expired', 'redeemed']);
const cause = z.enum(['rule', 'limit', 'risk', 'default', 'paused', 'invalid_arguments', 'unknown_tool', 'no_policy', 'evaluation_error']);

export const Effect = effect.meta({ id: 'Effect' });
export const EffectCounts = z.object({ allow: z.number(), require_approval: z.number(), block: z.number() }).meta({ id: 'EffectCounts' });
export const Cause = cause.meta({ id: 'Cause', description: 'What decided a call; for a block, why it was refused.' });
export const ApprovalStatus = approvalStatus.meta({ id: 'ApprovalStatus' });
export const TimeoutAction = timeoutAction.meta({ id: 'TimeoutAction' });
export const Role = z.enum(['admin', 'policy-author', 'approver', 'viewer']).meta({ id: 'Role' });

export const Risk = z.object({ score: z.number(), level: z.enum(['low', 'medium', 'high', 'critical']) }).meta({ id: 'Risk' });

export const LimitOutcome = z
  .object({
    limit: z.string(),
    policy: z.string(),
    kind: z.enum(['rate', 'budget', 'blast_radius']),
    key: z.string(),
    used: z.number(),
    adding: z.number(),
    max: z.number(),
    window: z.string(),
    exceeded: z.boolean(),
    consumed: z.boolean(),
    effect: z.enum(['require_approval', 'block']),
  })
  .meta({ id: 'LimitOutcome' });

export const ApprovalTier = z
  .object({ name: z.string(), approvers: z.array(z.string()), required: z.number(), timeout: z.string().nullable(), onTimeout: TimeoutAction })
  .meta({ id: 'ApprovalTier' });

const approvalRoute = z.object({
  tier: z.string(),
  tierIndex: z.number(),
  approvers: z.array(z.string()),
  required: z.number(),
  timeout: z.string().nullable(),
  onTimeout: TimeoutAction,
  expiresIn: z.string().nullable(),
  tiers: z.array(ApprovalTier).readonly(),
});
export const ApprovalRoute = approvalRoute.meta({ id: 'ApprovalRoute' });

export const Decision = z
  .object({
    effect: Effect,
    rule: z.string().nullable(),
    reason: z.string(),
    decidedBy: z.enum(['rule', 'limit', 'risk', 'default', 'error', 'pause']),
    matched: z.array(z.object({ rule: z.string(), policy: z.string(), effect: Effect.optional(), risk: z.number().optional() }).readonly()),
    limits: z.array(LimitOutcome),
    risk: Risk.readonly(),
    flagged: z.boolean(),
    approvers: z.array(z.string()).optional(),
    approval: ApprovalRoute.readonly().optional(),
    policy: z.object({ bundle: z.string(), version: z.union([z.string(), z.number()]), policies: z.array(z.string()) }),
    error: z.object({ code: z.enum(DECISION_ERROR_CODES), message: z.string(), path: z.string().optional() }).optional(),
  })
  .meta({ id: 'Decision' });

export const ApprovalView = z
  .object({
    id: z.string(),
    decisionId: z.string(),
    status: ApprovalStatus,
    agent: z.string(),
    role: z.string(),
    environment: z.string(),
    tool: z.string(),
    args,
    requestedArgs: args,
    edited: z.boolean(),
    session: z.string().nullable(),
    sessionAttributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).nullable(),
    intent: z.string().nullable(),
    callHash: z.string(),
    rule: z.string().nullable(),
    reason: z.string(),
    approvers: z.array(z.string()),
    tier: z.string(),
    tierIndex: z.number(),
    tierCount: z.number(),
    requiredApprovals: z.number(),
    approvalsRemaining: z.number(),
    approvals: z.array(z.object({ by: z.string(), kind: z.enum(['person', 'bot']), at: iso, reason: z.string(), edited: z.boolean() })),
    deadlineAt: iso.nullable(),
    onTimeout: TimeoutAction.nullable(),
    escalatesTo: z.string().nullable(),
    escalations: z.number(),
    route: ApprovalRoute,
    policyVersion: z.number(),
    createdAt: iso,
    expiresAt: iso,
    resolvedBy: z.string().nullable(),
    /** The kind of account that decided; null while pending or when the system resolved it. */
    resolvedByKind: z.enum(['person', 'bot']).nullable(),
    resolvedAt: iso.nullable(),
    resolutionReason: z.string().nullable(),
    redeemedAt: iso.nullable(),
  })
  .meta({ id: 'Approval' });

export const ValueCount = z.object({ value: z.string().nullable(), count: z.number() }).meta({ id: 'ValueCount' });
export const SeriesBucket = EffectCounts.extend({ start: iso }).meta({ id: 'SeriesBucket' });

export const OldestPending = z
  .object({
    id: z.string(),
    agent: z.string(),
    tool: z.string(),
    createdAt: iso,
    deadlineAt: iso.nullable(),
    /** A timeout action. */
    onTimeout: z.string().nullable(),
    escalatesTo: z.string().nullable(),
    expiresAt: iso,
  })
  .meta({ id: 'OldestPending' });

export const Overview = z
  .object({
    from: iso,
    to: iso,
    bucketMs: z.number(),
    series: z.array(SeriesBucket),
    totals: EffectCounts,
    topBlockedTools: z.array(ValueCount),
    topBlockedRules: z.array(ValueCount.extend({ cause: Cause })),
    environments: z.array(EffectCounts.extend({ environment: z.string() })),
    approvals: z.object({
      pending: z.number(),
      /** Decided by people, and their median time to decision. */
      resolved: z.number(),
      medianMs: z.number().nullable(),
      /** Decided by bot accounts: counted apart, never in the people's median. */
      bots: z.object({ resolved: z.number(), medianMs: z.number().nullable() }),
      automatic: z.number(),
      oldestPending: OldestPending.nullable(),
    }),
    filter: z.object({ agent: z.string().optional(), environment: z.string().optional() }),
  })
  .meta({ id: 'Overview' });

export const AnomalyFlag = z
  .object({ code: z.literal('blocked_rate_spike'), message: z.string(), recentRate: z.number(), baselineRate: z.number() })
  .meta({ id: 'AnomalyFlag' });

export const FleetAgent = z
  .object({
    id: z.string(),
    role: z.string(),
    environment: z.string(),
    lastSeen: iso.nullable(),
    mix: EffectCounts,
    total: z.number(),
    blockedRate: z.number().nullable(),
    trend: z.array(z.object({ start: iso, total: z.number(), blocked: z.number() })),
    flags: z.array(AnomalyFlag),
  })
  .meta({ id: 'FleetAgent' });

export const FleetAgentDetail = FleetAgent.extend({
  series: z.array(SeriesBucket),
  bucketMs: z.number(),
  topTools: z.array(ValueCount),
  topBlockedTools: z.array(ValueCount),
  topRules: z.array(ValueCount),
}).meta({ id: 'FleetAgentDetail' });

export const HistoryEntry = z
  .object({
    seq: z.number(),
    id: z.string(),
    at: iso,
    tool: z.string(),
    args,
    effect: Effect,
    rule: z.string().nullable(),
    reason: z.string(),
    risk: Risk.readonly(),
    /** Its `status` is an approval status. */
    approval: z.object({ id: z.string(), status: z.string() }).optional(),
  })
  .meta({ id: 'HistoryEntry' });

export const Budget = LimitOutcome.extend({ remaining: z.number() }).meta({ id: 'Budget' });

export const ApprovalContext = z
  .object({
    approval: ApprovalView,
    decision: Decision.nullable(),
    budgets: z.array(Budget),
    history: z.array(HistoryEntry),
    historyCut: z.boolean().describe('older decisions were left out of `history`: it holds at most 1 MiB of records'),
  })
  .meta({ id: 'ApprovalContext' });

export const DecisionEvent = z
  .object({
    id: z.string(),
    seq: z.number(),
    at: iso,
    agent: z.string(),
    role: z.string(),
    environment: z.string(),
    tool: z.string(),
    args,
    /** An effect. */
    effect: z.string(),
    rule: z.string().nullable(),
    reason: z.string(),
    risk: z.object({ score: z.number(), level: z.string() }),
    cause: Cause,
    policyVersion: z.union([z.number(), z.string()]),
    approvalId: z.string().optional(),
    /** An approval status. */
    approvalStatus: z.string().optional(),
    edge: z.boolean().optional(),
  })
  .meta({ id: 'DecisionEvent', description: 'A `decision` event of GET /v1/events.' });

export const Pause = z
  .object({
    id: z.string(),
    scope: z.enum(['fleet', 'agent', 'role', 'tool']),
    target: z.string().nullable(),
    kind: z.enum(['manual', 'quarantine']),
    reason: z.string(),
    createdBy: z.string(),
    createdAt: iso,
    resumedBy: z.string().nullable(),
    resumedAt: iso.nullable(),
    endsAt: iso.nullable(),
    active: z.boolean(),
  })
  .meta({ id: 'Pause' });

export const AuditRecord = z
  .object({
    seq: z.number(),
    at: iso,
    type: z.string(),
    actor: z.string(),
    agent: z.string().nullable(),
    tool: z.string().nullable(),
    /** An effect (`allow`, `require_approval`, `block`) on decision records. */
    effect: z.string().nullable(),
    rule: z.string().nullable(),
    data: z.unknown(),
    prevHash: z.string(),
    hash: z.string(),
    cause: Cause.optional(),
    /** Its `status` is an approval status. */
    approval: z.object({ id: z.string(), status: z.string() }).optional(),
  })
  .meta({ id: 'AuditRecord' });

export const VerifyResult = z
  .union([
    z.object({
      ok: z.literal(true),
      records: z.number(),
      head: z.string().nullable(),
      anchor: z.object({ hash: z.string(), seq: z.number(), following: z.number() }).optional(),
      /** Present once records were archived: the chain verified starts after record `seq`, attested by the `audit.archived` record `attestedBy`. */
      base: z.object({ seq: z.number(), hash: z.string(), file: z.string().nullable(), attestedBy: z.number().nullable() }).optional(),
    }),
    z.object({ ok: z.literal(false), records: z.number(), seq: z.number(), reason: z.string() }),
  ])
  .meta({ id: 'VerifyResult' });

export const PolicySource = z.object({ file: z.string(), text: z.string() }).meta({ id: 'PolicySource' });

export const PolicyVersion = z
  .object({ version: z.number(), bundle: z.string(), digest: z.string(), files: z.array(z.string()), createdBy: z.string(), createdAt: iso, active: z.boolean(), note: z.string().optional() })
  .meta({ id: 'PolicyVersion' });

export const PolicyVersionDetail = PolicyVersion.extend({ sources: z.array(PolicySource) }).meta({ id: 'PolicyVersionDetail' });

export const FileDiff = z.object({ file: z.string(), status: z.enum(['added', 'removed', 'modified']), patch: z.string() }).meta({ id: 'FileDiff' });

const recordedRequest = z.object({
  agent: z.string(),
  role: z.string(),
  environment: z.string().optional(),
  tool: z.string(),
  args: args.optional(),
  session: z.string().optional(),
  sessionAttributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  intent: z.string().optional(),
  at: z.union([z.string(), z.number()]),
});

export const FlipGroup = z
  .object({
    from: Effect,
    to: Effect,
    rule: z.string().nullable(),
    count: z.number(),
    examples: z.array(
      z.object({
        id: z.string().optional(),
        request: recordedRequest,
        before: z.object({ effect: Effect, rule: z.string().nullable() }),
        after: z.object({ effect: Effect, rule: z.string().nullable(), reason: z.string(), decidedBy: Decision.shape.decidedBy }),
      }),
    ),
  })
  .meta({ id: 'FlipGroup' });

export const ReplayReport = z
  .object({ calls: z.number(), before: EffectCounts, after: EffectCounts, flipped: z.number(), flips: z.array(FlipGroup) })
  .meta({ id: 'ReplayReport' });

export const Simulation = z
  .discriminatedUnion('mode', [
    z.object({
      mode: z.literal('recorded'),
      from: iso.nullable(),
      to: iso.nullable(),
      report: ReplayReport,
      cutBySize: z.literal(true).optional().describe('the calls asked for held more than 256 MiB of records: the replay covers the newest that fit, from `from` on'),
    }),
    z.object({
      mode: z.literal('call'),
      request: recordedRequest,
      current: z.object({ version: z.number(), decision: Decision }).nullable(),
      candidate: Decision,
      flipped: z.boolean(),
    }),
  ])
  .meta({ id: 'Simulation' });

export const Agent = z.object({ id: z.string(), role: z.string(), environment: z.string(), createdAt: iso, createdBy: z.string() }).meta({ id: 'Agent' });

export const AgentListed = Agent.extend({
  activeKeys: z.number().int(),
  lastSeen: iso.nullable().meta({ description: 'Its newest decision, read from the audit trail; null: never decided.' }),
}).meta({ id: 'AgentListed' });

export const ApiKey = z
  .object({ id: z.string(), agent: z.string(), createdAt: iso, createdBy: z.string(), revokedAt: iso.nullable() })
  .meta({ id: 'ApiKey', description: "An agent's API key; its secret is never stored." });

export const IssuedApiKey = ApiKey.extend({
  key: z.string().meta({ description: 'The key itself (`ak_…`), shown this once.' }),
}).meta({ id: 'IssuedApiKey' });

export const RotatedApiKey = IssuedApiKey.extend({ replaces: z.string().meta({ description: 'The key revoked by this rotation.' }) }).meta({ id: 'RotatedApiKey' });

export const User = z
  .object({
    id: z.string(),
    username: z.string(),
    role: Role,
    groups: z.array(z.string()),
    /** `bot`: a service account; its approval decisions are counted apart from people's. */
    kind: z.enum(['person', 'bot']),
    createdAt: iso,
    createdBy: z.string(),
    disabledAt: iso.nullable(),
  })
  .meta({ id: 'User' });

export const PersonalToken = z
  .object({
    id: z.string(),
    name: z.string(),
    username: z.string(),
    role: Role.nullable().meta({ description: "The narrower role the token was given; null: its person's role." }),
    createdAt: iso,
    expiresAt: iso.nullable(),
    revokedAt: iso.nullable(),
    revokedBy: z.string().nullable(),
    lastUsedAt: iso.nullable(),
  })
  .meta({ id: 'PersonalToken' });

export const CreatedPersonalToken = PersonalToken.extend({ token: z.string().meta({ description: 'The token itself (`apt_…`), shown this once.' }) }).meta({
  id: 'CreatedPersonalToken',
});

export const SessionUser = User.pick({ id: true, username: true, role: true, groups: true, kind: true }).meta({ id: 'SessionUser' });

export const SignInMethods = z
  .object({
    password: z.boolean().describe('false: password sign-in is switched off (POST /v1/auth/login answers 403 password_login_disabled)'),
    sso: z
      .object({ name: z.string().describe('The provider, for "Sign in with <name>"'), url: z.string().describe('Where the browser goes to start it') })
      .nullable()
      .describe('Single sign-on through an OpenID Connect provider; null when none is configured'),
  })
  .meta({ id: 'SignInMethods', description: 'How people sign in on this server.' });

export const Session = z
  .object({ user: SessionUser, csrfToken: z.string().nullable(), expiresAt: iso.optional(), tokenId: z.string().optional() })
  .meta({ id: 'Session', description: 'The signed-in person; `csrfToken` is null when they authenticated with an API token (`tokenId`).' });

/** The approval a `require_approval` decision opened: its route and where it stands. */
export const ApprovalTicket = approvalRoute
  .extend({ id: z.string(), status: ApprovalStatus, expiresAt: iso, deadlineAt: iso.nullable() })
  .meta({ id: 'ApprovalTicket' });

export const DecisionResponse = Decision.extend({
  id: z.string(),
  at: iso,
  approval: ApprovalTicket.optional(),
  replay: z.literal(true).optional(),
  replayOf: z.string().optional(),
  ranAt: iso.nullable().optional(),
  claim: z.object({ id: z.string(), at: iso }).optional(),
  repeatOf: z.string().optional(),
}).meta({ id: 'DecisionResponse', description: 'POST /v1/decide: the decision with its id, and for `require_approval` the approval it opened.' });

export const ToolReach = z
  .object({ tool: z.string(), reach: z.enum(['open', 'blocked']), rule: z.string().nullable(), reason: z.string().nullable() })
  .meta({ id: 'ToolReach' });

export const AgentTools = z
  .object({
    agent: z.string(),
    role: z.string(),
    environment: z.string(),
    policy: z.object({ bundle: z.string(), version: z.number() }).nullable(),
    tools: z.array(ToolReach),
  })
  .meta({ id: 'AgentTools' });

export const EdgeVerdicts = z
  .object({ recorded: z.number(), verdicts: z.array(z.object({ id: z.string(), agreed: z.boolean(), verified: z.boolean() })) })
  .meta({ id: 'EdgeVerdicts' });

const decisionTimes = z.object({ count: z.number(), mean: z.number().nullable(), median: z.number().nullable(), p90: z.number().nullable(), max: z.number().nullable() });

export const ApprovalStats = z
  .object({
    from: iso,
    to: iso,
    rules: z.array(
      z.object({
        rule: z.string().nullable(),
        requested: z.number(),
        granted: z.number(),
        denied: z.number(),
        edited: z.number(),
        timedOutBlocked: z.number(),
        timedOutAllowed: z.number(),
        expired: z.number(),
        pending: z.number(),
        escalated: z.number(),
        grantRate: z.number().nullable(),
        timeToDecisionMs: decisionTimes.meta({ description: "People's decisions only." }),
        bots: z.object({ count: z.number(), median: z.number().nullable() }).meta({ description: 'Decisions by bot accounts, counted apart.' }),
      }),
    ),
  })
  .meta({ id: 'ApprovalStats' });

export const Delivery = z
  .object({
    id: z.string(),
    deliveryId: z.string(),
    approvalId: z.string(),
    channel: z.string(),
    kind: z.string(),
    event: z.string(),
    attempt: z.number(),
    outcome: z.enum(['delivered', 'failed']),
    statusCode: z.number().nullable(),
    error: z.string().nullable(),
    at: iso,
    nextAttemptAt: iso.nullable(),
  })
  .meta({ id: 'Delivery' });

export const AnomalyAlert = z
  .object({
    id: z.string(),
    at: iso,
    agent: z.string(),
    bucketStart: iso,
    bucketEnd: iso,
    anomalies: z.array(
      z.object({
        code: z.enum(['rate_spike', 'new_tool', 'failure_rate']),
        agent: z.string(),
        tool: z.string().nullable(),
        metric: z.enum(['calls', 'blocks', 'approvals', 'limit_hits', 'failures']),
        /** Epoch ms. */
        bucketStart: z.number(),
        count: z.number(),
        baseline: z.number().describe("the series' average per bucket before; for `failure_rate`, the tool's failure rate before (0 to 1)"),
        reported: z.number().optional().describe('`failure_rate`: calls whose outcome was reported in the bucket (`count` of them failed)'),
        threshold: z.number(),
        message: z.string(),
      }),
    ),
    summary: z.string(),
  })
  .meta({ id: 'AnomalyAlert' });

export const AnomalyBaseline = z
  .object({ warmupMs: z.number(), agents: z.array(z.object({ agent: z.string(), historyMs: z.number(), learning: z.boolean() })), starting: z.boolean() })
  .meta({ id: 'AnomalyBaseline' });

export const Finding = z
  .object({
    code: z.string(),
    severity: z.enum(['warning', 'info']),
    message: z.string(),
    file: z.string(),
    line: z.number().optional(),
    path: z.string().optional(),
    policy: z.string(),
    tool: z.string().optional(),
    rule: z.string().optional(),
    rules: z.array(z.string()).optional(),
    roles: z.array(z.string()),
    environments: z.array(z.string()),
    /** The argument region concerned (docs/policy-check.md). */
    region: z.unknown().optional(),
    effect: Effect.optional(),
  })
  .meta({ id: 'Finding', description: 'A finding of `airlock policy check` (docs/policy-check.md).' });

export const BundleCheck = z
  .object({ valid: z.literal(true), bundle: z.string(), digest: z.string(), policies: z.array(z.string()), warnings: z.array(Finding) })
  .meta({ id: 'BundleCheck' });

export const Suggestion = z
  .object({
    kind: z.literal('raise_allow_threshold'),
    id: z.string(),
    policy: z.string(),
    file: z.string(),
    tool: z.string(),
    argument: z.string(),
    allowRule: z.string(),
    approvalRule: z.string(),
    from: z.number(),
    to: z.number(),
    evidence: z.object({
      approved: z.number(),
      edited: z.number(),
      denied: z.number(),
      undecided: z.number(),
      lowest: z.number(),
      highest: z.number(),
      wouldAllow: z.number(),
    }),
    message: z.string(),
    review: z.array(z.string()),
    patch: z.string(),
    candidate: z.object({ name: z.string(), files: z.array(PolicySource) }),
  })
  .meta({ id: 'Suggestion' });

export const SuggestionsReport = z
  .object({ from: iso, to: iso, version: z.number().nullable(), approvals: z.number(), suggestions: z.array(Suggestion) })
  .meta({ id: 'SuggestionsReport' });

export const ShadowReport = ReplayReport.extend({ version: z.number(), since: iso }).meta({ id: 'ShadowReport' });

export const Ok = z.object({ ok: z.literal(true) }).meta({ id: 'Ok' });

/** Named schemas no JSON route answers with (the `decision` event of the SSE stream GET /v1/events): listed in the document too. */
export const STREAM_SCHEMAS: readonly z.ZodType[] = [DecisionEvent];

/** What the events service sends fits the schema (a compile-time check: routes check theirs through RouteDef). */
export const decisionEventFits = (event: DecisionEventView): z.output<typeof DecisionEvent> => event;

export const Outcome = z
  .object({
    decisionId: z.string(),
    agent: z.string(),
    tool: z.string(),
    approvalId: z.string().nullable(),
    status: z.enum(['started', 'succeeded', 'failed']).or(z.string()),
    decidedAt: iso,
    startedAt: iso.nullable(),
    finishedAt: iso.nullable(),
    durationMs: z.number().nullable(),
    error: z.object({ class: z.string().nullable(), message: z.string().nullable() }).nullable(),
    result: z.object({ digest: z.string(), size: z.number() }).nullable(),
    reportedAt: iso,
    duplicates: z.number().describe('outcomes refused for this decision because one was already recorded'),
  })
  .meta({ id: 'Outcome', description: 'What ran after one decision, as its agent reported it.' });

const decisionSeq = z.number().int().nullable().describe("the decision's audit record (sequence number), null if not found");
const OrphanDecision = z.object({ decisionId: z.string(), agent: z.string(), tool: z.string(), decidedAt: iso, seq: decisionSeq });

export const Orphans = z
  .object({
    agents: z.array(z.object({ agent: z.string(), since: iso })),
    allowedUnreported: z.array(OrphanDecision),
    redeemedUnreported: z.array(z.object({ approvalId: z.string(), decisionId: z.string(), agent: z.string(), tool: z.string(), redeemedAt: iso })),
    startedUnfinished: z.array(OrphanDecision),
    reportedTwice: z.array(Outcome.extend({ seq: decisionSeq })),
    checkedAt: iso.describe("the server's time the answer was taken at"),
    nextDueAt: iso
      .nullable()
      .describe('the first instant at which a call not listed now is listed, if it has still not reported finishing by then (its decision, redemption or start + the grace period + 1 ms); null when none waits. A view that must stay current asks again then (the delay: nextDueAt − checkedAt)'),
  })
  .meta({ id: 'Orphans', description: 'Calls the trail cannot account for, of the agents that report outcomes.' });

export const FailureRate = z
  .object({ agent: z.string(), tool: z.string(), succeeded: z.number(), failed: z.number(), rate: z.number() })
  .meta({ id: 'FailureRate' });

export const OutcomesRecorded = z
  .object({
    recorded: z.number().int().meta({ description: 'How many of the batch were recorded now.' }),
    outcomes: z.array(
      z.object({
        decisionId: z.string(),
        recorded: z.boolean(),
        error: z
          .object({ code: z.enum(['unknown_decision', 'decision_of_another_agent', 'decision_not_runnable', 'outcome_already_reported']), message: z.string() })
          .optional()
          .meta({ description: 'Why it was refused (final: the SDK does not send it again).' }),
      }),
    ),
  })
  .meta({ id: 'OutcomesRecorded' });
