/**
 * Why a call was refused (or, for any decision, what decided it), from the decision's `decidedBy`
 * and error `code` (docs/errors.md). One classification for the overview's top list, the audit
 * filter and the live feed, so "(default / error)" never lumps a kill switch, a malformed call and
 * an unknown tool together.
 */
export type RefusalCause =
  /** A rule of the policy. */
  | 'rule'
  /** A rate, budget or blast-radius limit. */
  | 'limit'
  /** The risk tier of the summed risk points. */
  | 'risk'
  /** No rule matched: the policy's default. */
  | 'default'
  /** The kill switch: a pause or a quarantine. */
  | 'paused'
  /** The arguments (or the request) do not match the tool's schema. */
  | 'invalid_arguments'
  /** The tool is not declared for the caller's role. */
  | 'unknown_tool'
  /** No policy applies to the caller's role. */
  | 'no_policy'
  /** The policy could not be evaluated: a condition failed, the limit store or the engine did not answer. */
  | 'evaluation_error';

export const REFUSAL_CAUSES: readonly RefusalCause[] = ['rule', 'limit', 'risk', 'default', 'paused', 'invalid_arguments', 'unknown_tool', 'no_policy', 'evaluation_error'];

/** Error codes of each cause decided by `error` (everything else that is an error: `evaluation_error`). */
export const ERROR_CODES_OF: Readonly<Partial<Record<RefusalCause, readonly string[]>>> = {
  invalid_arguments: ['invalid_arguments', 'invalid_request', 'request_too_large'],
  unknown_tool: ['unknown_tool'],
  no_policy: ['no_policy'],
};

/** `decidedBy` values that name their cause directly. */
export const DECIDED_BY_OF: Readonly<Partial<Record<RefusalCause, string>>> = { rule: 'rule', limit: 'limit', risk: 'risk', default: 'default', paused: 'pause' };

export function refusalCause(decidedBy: string | null | undefined, code: string | null | undefined): RefusalCause {
  switch (decidedBy) {
    case 'rule':
    case 'limit':
    case 'risk':
    case 'default':
      return decidedBy;
    case 'pause':
      return 'paused';
    default:
      if (code === 'paused') return 'paused';
      for (const cause of ['invalid_arguments', 'unknown_tool', 'no_policy'] as const) if (ERROR_CODES_OF[cause]?.includes(code ?? '')) return cause;
      return 'evaluation_error';
  }
}

/** The cause of a recorded decision. */
export function causeOf(decision: { decidedBy?: string; error?: { code?: string } | undefined } | undefined): RefusalCause {
  return refusalCause(decision?.decidedBy, decision?.error?.code);
}
