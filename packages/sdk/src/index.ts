export { Airlock, createAirlock } from './airlock.js';
export type { AirlockOptions, CheckOptions, FailureOf, Guarded } from './airlock.js';
export { LocalTransport } from './local-transport.js';
export type { ApprovalRequest, ApprovalResolution, LocalOptions } from './local-transport.js';
export { RemoteTransport } from './remote-transport.js';
export type { RemoteOptions } from './remote-transport.js';
export { EdgeTransport } from './edge-transport.js';
export type { EdgeOptions, EdgeSettings, EdgeStats } from './edge-transport.js';
export type { DecideOptions, Transport } from './transport.js';
export { OutcomeBatcher, outcomeReport } from './outcomes.js';
export type { ExecutionOutcome, OutcomeBatcherOptions, OutcomeReport } from './outcomes.js';
export type { ToolReach } from '@airlock/core';
export { AirlockAlreadyRanError, AirlockRefusalError, AirlockUnavailableError } from './types.js';
export type {
  AirlockDecision,
  ApprovalState,
  ApprovalStatus,
  ApprovalTicket,
  EditedResult,
  GuardOptions,
  PendingApproval,
  Refusal,
  SessionAttributes,
  SessionContext,
  ToolCall,
  Verdict,
} from './types.js';
export type { TraceCarrier, TracerProviderLike, TracingOption } from './tracing.js';
