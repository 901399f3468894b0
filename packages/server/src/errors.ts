/**
 * Errors with stable snake_case codes (Stripe-style). Services throw `AirlockError` and know nothing
 * of HTTP; the HTTP layer maps each code to a status (`http/error-status.ts`) and renders
 * `{ error: { code, message, ...details } }`.
 */
export type ErrorCode =
  | 'invalid_request'
  | 'invalid_json'
  | 'duplicate_key'
  | 'invalid_text'
  | 'request_too_large'
  | 'unauthenticated'
  | 'invalid_api_key'
  | 'invalid_session'
  | 'invalid_token'
  | 'invalid_credentials'
  | 'password_login_disabled'
  | 'sso_not_configured'
  | 'sso_state_invalid'
  | 'sso_failed'
  | 'sso_unavailable'
  | 'sso_no_role'
  | 'sso_user_disabled'
  | 'sso_claim_invalid'
  | 'sso_username_taken'
  | 'forbidden'
  | 'csrf_token_invalid'
  | 'not_found'
  | 'already_exists'
  | 'key_revoked'
  | 'last_admin'
  | 'approval_not_pending'
  | 'approval_pending'
  | 'approval_denied'
  | 'approval_expired'
  | 'approval_already_redeemed'
  | 'approval_wrong_agent'
  | 'not_entitled'
  | 'already_approved'
  | 'edit_blocked'
  | 'link_invalid'
  | 'link_used'
  | 'call_mismatch'
  | 'call_changed'
  | 'paused'
  | 'idempotency_key_reused'
  | 'already_ran'
  | 'unknown_decision'
  | 'decision_of_another_agent'
  | 'decision_not_runnable'
  | 'outcome_already_reported'
  | 'no_previous_version'
  | 'invalid_policy'
  | 'limit_kind_changed'
  | 'simulation_too_long'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'store_unavailable'
  | 'audit_gap'
  | 'audit_archived'
  | 'internal_error';

export class AirlockError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'AirlockError';
    this.code = code;
    this.details = details;
  }

  static isInstance(value: unknown): value is AirlockError {
    return value instanceof Error && value.name === 'AirlockError' && typeof (value as AirlockError).code === 'string';
  }
}

export function notFound(what: string): AirlockError {
  return new AirlockError('not_found', `${what} not found`);
}
