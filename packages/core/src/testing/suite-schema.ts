import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { DECISION_ERROR_CODES } from '../errors.js';
import { sessionAttributesSchema } from '../engine/request.js';
import { effectSchema } from '../policy/document.js';

/**
 * The shape of one policy test suite file (docs/policy-tests.md). Every object is strict, so a
 * misspelt `expect` key is a load error instead of an assertion that silently checks nothing.
 * docs/schemas/policy-test.schema.json is generated from this schema.
 */


const name = z.string().min(1).max(256);

const identity = {
  agent: name.optional(),
  role: name.optional(),
  environment: name.optional().meta({ description: 'Default: production.' }),
  session: z.string().max(256).optional(),
  sessionAttributes: sessionAttributesSchema.optional().meta({ description: 'Attributes the application bound to the session, visible as session.<name>.' }),
};

export const suiteDefaultsSchema = z
  .strictObject(identity)
  .meta({ description: 'Merged into every request of the suite; a request\'s own fields win.' });

export const suiteRequestSchema = z
  .strictObject({
    ...identity,
    tool: z.string().max(256),
    args: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ description: 'A decision request without `at` (the step sets the time).' });

export const approvalExpectationSchema = z
  .strictObject({
    tier: z.string().min(1).optional().meta({ description: 'Name of the tier the approval starts at.' }),
    approvers: z.array(z.string().min(1)).optional().meta({ description: 'The starting tier\'s approver groups, in policy order.' }),
    required: z.number().int().min(1).optional().meta({ description: 'Distinct approvals the starting tier needs.' }),
  })
  .meta({ description: 'Where a require_approval call is routed; only the fields given are checked.' });

export const expectationSchema = z
  .strictObject({
    effect: effectSchema,
    rule: z
      .string()
      .min(1)
      .nullable()
      .optional()
      .meta({ description: 'The deciding rule or limit id; null: none (policy default, risk tier, error). Absent: not checked.' }),
    code: z
      .enum(DECISION_ERROR_CODES)
      .optional()
      .meta({ description: 'The decision\'s error code. Absent: the decision must carry no error.' }),
    approval: approvalExpectationSchema.optional(),
  })
  .meta({ description: 'What every call of the step must decide.' });

const isoTime = z.iso.datetime({ offset: true }).meta({ description: 'The call\'s clock, ISO 8601 with offset.' });
const duration = z
  .string()
  .refine((text) => parseDuration(text) !== undefined, { message: 'not a duration like 500ms, 60s, 15m, 24h or 7d' })
  .meta({ description: 'Spacing of `at` between repetitions, e.g. 1m.' });

const stepFields = {
  request: suiteRequestSchema,
  at: isoTime.optional(),
  repeat: z.number().int().min(1).max(100_000).default(1).meta({ description: 'Send the same request this many times.' }),
  every: duration.optional(),
  expect: expectationSchema,
  executed: z
    .boolean()
    .optional()
    .meta({ description: 'The call was approved and then executed: its novelty keys count as seen for the later steps (an allowed call records its own).' }),
};

function everyNeedsAt(step: { at?: string | undefined; every?: string | undefined }, ctx: z.RefinementCtx): void {
  if (step.every !== undefined && step.at === undefined) {
    ctx.addIssue({ code: 'custom', path: ['every'], message: '`every` spaces repetitions from `at`: set `at` too' });
  }
}

export const testStepSchema = z.strictObject(stepFields).superRefine(everyNeedsAt);

/**
 * A case is one request (the step fields inline) or a list of `steps` that share one counter
 * state. Both forms are one object so that errors point at the offending key, not at a union.
 */
export const testCaseSchema = z
  .strictObject({
    name: z.string().min(1),
    request: stepFields.request.optional(),
    at: stepFields.at,
    repeat: z.number().int().min(1).max(100_000).optional().meta({ description: 'Send the same request this many times (default 1).' }),
    every: stepFields.every,
    expect: stepFields.expect.optional(),
    steps: z.array(testStepSchema).min(1).optional().meta({ description: 'Calls in order, sharing one counter state.' }),
  })
  .superRefine((testCase, ctx) => {
    if (testCase.steps !== undefined) {
      for (const key of ['request', 'at', 'repeat', 'every', 'expect'] as const) {
        if (testCase[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `a case has either \`steps\` or \`${key}\`, not both` });
      }
      return;
    }
    if (testCase.request === undefined) ctx.addIssue({ code: 'custom', path: ['request'], message: 'a case needs `request` and `expect`, or `steps`' });
    if (testCase.expect === undefined) ctx.addIssue({ code: 'custom', path: ['expect'], message: 'a case needs `request` and `expect`, or `steps`' });
    everyNeedsAt(testCase, ctx);
  });

export const policySuiteSchema = z
  .strictObject({
    suite: z.string().min(1).meta({ description: 'The suite\'s name, shown in results.' }),
    description: z.string().optional(),
    bundle: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Policy file or bundle directory, relative to this file\'s directory. Default: `..`.' }),
    defaults: suiteDefaultsSchema.optional(),
    cases: z.array(testCaseSchema).min(1),
  })
  .superRefine((suite, ctx) => {
    const seen = new Set<string>();
    suite.cases.forEach((testCase, i) => {
      if (seen.has(testCase.name)) ctx.addIssue({ code: 'custom', path: ['cases', i, 'name'], message: `duplicate case name '${testCase.name}'` });
      seen.add(testCase.name);
      const requests = testCase.steps
        ? testCase.steps.map((step, j) => ({ request: step.request, path: ['cases', i, 'steps', j, 'request'] }))
        : [{ request: testCase.request, path: ['cases', i, 'request'] }];
      for (const { request, path } of requests) {
        for (const field of ['agent', 'role'] as const) {
          if (request && request[field] === undefined && suite.defaults?.[field] === undefined) {
            ctx.addIssue({ code: 'custom', path, message: `\`${field}\` is required, in the request or in \`defaults\`` });
          }
        }
      }
    });
  })
  .meta({ title: 'Airlock policy test suite' });

export type PolicySuite = z.infer<typeof policySuiteSchema>;
export type TestCase = z.infer<typeof testCaseSchema>;
export type TestStep = z.infer<typeof testStepSchema>;
export type Expectation = z.infer<typeof expectationSchema>;
export type SuiteRequest = z.infer<typeof suiteRequestSchema>;
export type ApprovalExpectation = z.infer<typeof approvalExpectationSchema>;
