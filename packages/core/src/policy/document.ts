import { z } from 'zod';

/**
 * The shape of one policy document, as written in YAML (docs/policy-format.md).
 * Every object is strict: a misspelt key is a load error, not a silently ignored rule.
 */

export const EFFECTS = ['allow', 'require_approval', 'block'] as const;
export const effectSchema = z.enum(EFFECTS);
export type Effect = z.infer<typeof effectSchema>;

/** A JSON Schema object; validated by ajv when the tool's validator is compiled. */
export type JsonSchema = Record<string, unknown>;
const jsonSchema = z.record(z.string(), z.unknown()) as z.ZodType<JsonSchema>;

const identifier = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'use letters, digits, and _ . : - (no spaces)');
/** A tool name as declared; names are matched exactly. */
const toolName = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.:/-]*$/, 'tool names use letters, digits, and _ . : / -');
/** A tool reference in a rule or limit: an exact name or a glob such as `get_*`. */
const toolPattern = z.string().min(1).regex(/^[A-Za-z0-9_.:/*?{},[\]!-]+$/, 'not a tool name or glob');
const celExpression = z.string().min(1);
const approverGroups = z.array(z.string().min(1)).min(1);

export const TIMEOUT_ACTIONS = ['escalate', 'block', 'allow'] as const;
export type TimeoutAction = (typeof TIMEOUT_ACTIONS)[number];

/** One step of an approval route: who may approve, how many of them, and for how long. */
export const approvalTierSchema = z.strictObject({
  /** Shown to approvers; default `tier-<n>`. */
  name: identifier.optional(),
  /** CEL over the call: the first tier whose `when` holds is where the approval starts. */
  when: celExpression.optional(),
  /** Approver groups; a member of any of them may act. */
  approvers: approverGroups,
  /** Distinct people who must approve; default: the route's `required`, else 1. */
  required: z.number().int().min(1).max(10).optional(),
  /** Time without a decision in this tier before `onTimeout` applies. */
  timeout: z.string().optional(),
  onTimeout: z.enum(TIMEOUT_ACTIONS).optional(),
});

/**
 * Where a `require_approval` call goes: tiers chosen by the call's arguments, N distinct approvers,
 * escalation or a fallback decision on timeout. One tier can be written inline (`approvers`).
 */
export const approvalRouteSchema = z
  .strictObject({
    approvers: approverGroups.optional(),
    tiers: z.array(approvalTierSchema).min(1).optional(),
    required: z.number().int().min(1).max(10).optional(),
    timeout: z.string().optional(),
    /** What a timeout does: move to the next tier, or decide. Default `block`. */
    onTimeout: z.enum(TIMEOUT_ACTIONS).optional(),
    /** How long the approval stays open in each tier (and approved, until redeemed); default: the server's. */
    expiresIn: z.string().optional(),
  })
  .refine((route) => (route.approvers === undefined) !== (route.tiers === undefined), {
    message: 'an approval names either `approvers` (one tier) or `tiers`, not both',
  });

export const toolDefinitionSchema = z.strictObject({
  description: z.string().optional(),
  /** Argument name → JSON Schema. The argument object is closed unless `additionalArgs: true`. */
  args: z.record(z.string(), jsonSchema).default({}).meta({ description: 'Argument name → JSON Schema of its value, e.g. { type: number, minimum: 0 }.' }),
  /** Which arguments must be present; default: all of them. */
  required: z.array(z.string()).optional().meta({ description: 'Arguments that must be present. Default: all declared arguments.' }),
  additionalArgs: z.boolean().default(false).meta({ description: 'Accept arguments that are not declared. Default: false (an unknown argument makes the call invalid).' }),
  recordResult: z
    .boolean()
    .optional()
    .meta({ description: "Record the tool's result (its JSON text, cut at 4 KB) with the call's execution outcome. Default: false (only a SHA-256 digest and the size are recorded)." }),
});

export const ruleSchema = z
  .strictObject({
    id: identifier.meta({ description: 'Unique in the bundle; decisions name it.' }),
    description: z.string().optional(),
    tool: z.union([toolPattern, z.array(toolPattern).min(1)]).meta({ description: 'A tool name, a glob such as get_*, or a list of them.' }),
    when: celExpression.optional().meta({ description: 'CEL condition over agent, role, environment, tool, args, session, now …; absent: always matches.' }),
    effect: effectSchema.optional().meta({ description: 'What a matching call gets. A rule needs an effect, a risk score, or both.' }),
    reason: z.string().optional().meta({ description: 'Shown to the agent and in the audit trail.' }),
    risk: z.number().int().min(0).max(1000).optional().meta({ description: 'Risk points added when the rule matches; the sum is compared with riskTiers.' }),
    approvers: z.array(z.string().min(1)).optional().meta({ description: 'For require_approval: the approver groups (short form of approval).' }),
    approval: approvalRouteSchema.optional().meta({ description: 'For require_approval: tiers, N distinct approvers, timeouts.' }),
  })
  .refine((rule) => rule.effect !== undefined || rule.risk !== undefined, {
    message: 'a rule needs an effect, a risk score, or both',
  })
  .refine((rule) => !(rule.approvers && rule.approval), { message: '`approvers` is the short form of `approval`: write one of them', path: ['approval'] })
  .refine((rule) => !rule.approval || rule.effect === 'require_approval', {
    message: '`approval` routes calls that need approval: it needs `effect: require_approval`',
    path: ['approval'],
  });

export const limitSchema = z
  .strictObject({
    id: identifier.meta({ description: 'Unique in the bundle; decisions name it.' }),
    description: z.string().optional(),
    tools: z.array(toolPattern).min(1).meta({ description: 'Tool names or globs this limit counts.' }),
    when: celExpression.optional().meta({ description: 'CEL filter: only matching calls count.' }),
    /** CEL expressions whose values form the counter key, e.g. `[agent, args.account_id]`. */
    key: z.array(celExpression).min(1).meta({ description: 'CEL expressions; one counter per distinct key, e.g. [agent, args.account_id].' }),
    /** Budget: sum this numeric expression. */
    sum: celExpression.optional().meta({ description: 'Budget: sum this number (CEL). Without sum or items, each call counts 1.' }),
    /** Blast radius: sum the size of this list expression. */
    items: celExpression.optional().meta({ description: 'Blast radius: sum the size of this list (CEL).' }),
    max: z.number().finite().min(0).meta({ description: 'Largest allowed total in any window.' }),
    window: z.string().meta({ description: 'Sliding window: 250ms, 30s, 15m, 24h, 7d.' }),
    effect: z.enum(['require_approval', 'block']).meta({ description: 'What a call that would exceed max gets.' }),
    reason: z.string().optional(),
    approvers: z.array(z.string().min(1)).optional(),
    approval: approvalRouteSchema.optional(),
  })
  .refine((limit) => !(limit.sum && limit.items), { message: 'a limit sums either `sum` or `items`, not both' })
  .refine((limit) => !(limit.approvers && limit.approval), { message: '`approvers` is the short form of `approval`: write one of them', path: ['approval'] })
  .refine((limit) => !limit.approval || limit.effect === 'require_approval', {
    message: '`approval` routes calls that need approval: it needs `effect: require_approval`',
    path: ['approval'],
  });

/**
 * History signals: `novel.<id>` is true while no call of these tools with this key value was ever
 * allowed, or approved and executed (e.g. the first payment of an agent to a payee).
 */
export const noveltySignalSchema = z.strictObject({
  id: identifier,
  description: z.string().optional(),
  tools: z.array(toolPattern).min(1),
  /** CEL expressions whose values identify what is new, e.g. `[agent, args.payee]`. */
  key: z.array(celExpression).min(1),
});

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day like 09:00 or 17:30');

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * Working hours: `hours.<id>` is true when the call's time falls on one of `days` between `from`
 * (inclusive) and `to` (exclusive), read in `timezone` (an IANA name, so daylight saving is right).
 */
export const hoursSignalSchema = z
  .strictObject({
    id: identifier,
    description: z.string().optional(),
    timezone: z.string().refine(isTimeZone, { message: 'an IANA time zone, like Europe/Paris or America/New_York' }),
    days: z.array(z.enum(WEEKDAYS)).min(1).default(['mon', 'tue', 'wed', 'thu', 'fri']),
    from: clockTime,
    to: clockTime,
  })
  .refine((hours) => hours.from < hours.to, { message: '`from` must be before `to` (for a span across midnight, declare two signals)', path: ['to'] });

export const signalsSchema = z.strictObject({
  novelty: z.array(noveltySignalSchema).default([]),
  hours: z.array(hoursSignalSchema).default([]),
});

/** Pause an agent after `blocks` blocked calls within `within` (a duration), until a person resumes it. */
export const quarantineSchema = z.strictObject({
  blocks: z.number().int().min(1),
  within: z.string(),
  /** Also quarantine an agent when an anomaly alert is raised for it. */
  onAnomaly: z.boolean().default(false),
});

export const riskTiersSchema = z
  .strictObject({
    medium: z.number().min(0),
    high: z.number().min(0),
    critical: z.number().min(0),
  })
  .refine((t) => t.medium <= t.high && t.high <= t.critical, {
    message: 'risk tiers must be ordered: medium <= high <= critical',
  });

export const environmentOverrideSchema = z.strictObject({
  default: effectSchema.optional(),
  /** Ids of rules or limits switched off in this environment. */
  disable: z.array(identifier).default([]),
  /** Extra rules and limits for this environment, evaluated with the policy's own. */
  rules: z.array(ruleSchema).default([]),
  limits: z.array(limitSchema).default([]),
  riskTiers: riskTiersSchema.optional(),
});

/**
 * Evaluation budgets of a policy, in CEL cost units (docs/policy-format.md, "Evaluation cost"):
 * the estimated worst case of one expression, and of all the policy's expressions one call to a
 * tool can run. A policy over either is refused at load; the per-call one is also the budget the
 * engine counts at run time.
 */
/**
 * The most a policy may raise either evaluation budget to: a hundred times the default. Without a
 * ceiling a draft could grant itself 1e12 units and have a simulation run it on the server's event
 * loop (four nested `.all` over 100-element lists held it 7.9 s).
 */
export const MAX_EVALUATION_BUDGET = 10_000_000;

export const evaluationSchema = z.strictObject({
  maxExpressionCost: z.number().int().positive().max(MAX_EVALUATION_BUDGET).optional(),
  maxDecisionCost: z.number().int().positive().max(MAX_EVALUATION_BUDGET).optional(),
});

export const DEFAULT_RISK_TIERS = { medium: 25, high: 40, critical: 80 } as const;

export const policyDocumentSchema = z
  .strictObject({
    policy: identifier.meta({ description: 'The policy\'s name, unique in the bundle.' }),
    description: z.string().optional(),
    appliesTo: z.strictObject({
      roles: z.array(z.string().min(1)).min(1).meta({ description: 'Agent roles this policy governs.' }),
    }),
    default: effectSchema.default('block').meta({ description: 'Effect when no rule matches a declared tool. Default: block.' }),
    riskTiers: riskTiersSchema.default(DEFAULT_RISK_TIERS).meta({ description: 'Risk score thresholds. Default: medium 25, high 40, critical 80.' }),
    tools: z.record(toolName, toolDefinitionSchema).meta({ description: 'Every tool an agent with these roles may call; any other tool is blocked.' }),
    rules: z.array(ruleSchema).default([]).meta({ description: 'Matched against each call; the strictest matching effect wins.' }),
    limits: z.array(limitSchema).default([]).meta({ description: 'Rates, budgets and blast radius over a sliding window.' }),
    signals: signalsSchema.optional().meta({ description: 'History and time signals readable in CEL: novel.<id>, hours.<id>.' }),
    quarantine: quarantineSchema.optional(),
    evaluation: evaluationSchema.optional().meta({ description: 'Evaluation budgets in CEL cost units (default 100,000 each): per expression and per call.' }),
    environments: z.record(identifier, environmentOverrideSchema).default({}).meta({ description: 'Overrides per environment (default environment: production).' }),
  })
  .meta({ title: 'Airlock policy' });

export type PolicyDocument = z.infer<typeof policyDocumentSchema>;
export type ToolDefinition = z.infer<typeof toolDefinitionSchema>;
export type RuleDocument = z.infer<typeof ruleSchema>;
export type LimitDocument = z.infer<typeof limitSchema>;

/** What a limit counts: each call (rate), a sum of a number (budget) or the size of a list (blast radius). */
export type LimitKind = 'rate' | 'budget' | 'blast_radius';

export function limitKindOf(limit: LimitDocument): LimitKind {
  return limit.sum ? 'budget' : limit.items ? 'blast_radius' : 'rate';
}

/** Every limit a policy declares: its own and those of each environment's overrides. */
export function limitsOf(document: PolicyDocument): LimitDocument[] {
  return [...document.limits, ...Object.values(document.environments).flatMap((environment) => environment.limits)];
}
export type NoveltySignalDocument = z.infer<typeof noveltySignalSchema>;
export type HoursSignalDocument = z.infer<typeof hoursSignalSchema>;
export type QuarantineDocument = z.infer<typeof quarantineSchema>;
export type RiskTiers = z.infer<typeof riskTiersSchema>;
export type EnvironmentOverride = z.infer<typeof environmentOverrideSchema>;
export type ApprovalRouteDocument = z.infer<typeof approvalRouteSchema>;
export type ApprovalTierDocument = z.infer<typeof approvalTierSchema>;
export type EvaluationDocument = z.infer<typeof evaluationSchema>;
