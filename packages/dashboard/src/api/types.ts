/**
 * The wire format of the Airlock API, as the dashboard reads it: the types generated from the
 * server's GET /openapi.json (`@airlock/sdk/api`, `npm run api:types`), named for the views.
 */
import type { components } from '@airlock/sdk/api';

type Schemas = components['schemas'];

export type Effect = Schemas['Effect'];
export const EFFECTS: readonly Effect[] = ['allow', 'require_approval', 'block'];
/** Effects arrive as strings in events and audit records. */
export const isEffect = (value: string | null | undefined): value is Effect => (EFFECTS as readonly (string | null | undefined)[]).includes(value);
export type Role = Schemas['Role'];
export type EffectCounts = Schemas['EffectCounts'];
export type User = Schemas['SessionUser'];
export type Session = Schemas['Session'];
export type SignInMethods = Schemas['SignInMethods'];
export type Risk = Schemas['Risk'];
/** What decided a call; for a block, why it was refused (server: services/refusal-cause.ts). */
export type Cause = Schemas['Cause'];
export type LimitOutcome = Schemas['LimitOutcome'];
export type Decision = Schemas['Decision'];
/** A `decision` event of GET /v1/events, or the feed's row rebuilt from an audit record (older records carry no cause). */
export type DecisionEvent = Omit<Schemas['DecisionEvent'], 'cause'> & { cause?: Cause };
export type ApprovalStatus = Schemas['ApprovalStatus'];
export type TimeoutAction = Schemas['TimeoutAction'];
export type ApprovalTier = Schemas['ApprovalTier'];
export type Approval = Schemas['Approval'];
export type Outcome = Schemas['Outcome'];
/** Calls the trail cannot account for, of agents that report outcomes (GET /v1/outcomes/orphans). */
export type Orphans = Schemas['Orphans'];
export type ApprovalVote = Approval['approvals'][number];
/** A kill switch in force or lifted (GET /v1/pauses). */
export type Pause = Schemas['Pause'];
export type Budget = Schemas['Budget'];
export type HistoryEntry = Schemas['HistoryEntry'];
export type ApprovalContext = Schemas['ApprovalContext'];
export type ValueCount = Schemas['ValueCount'];
export type SeriesBucket = Schemas['SeriesBucket'];
export type Overview = Schemas['Overview'];
export type OldestPending = Schemas['OldestPending'];
export type AnomalyFlag = Schemas['AnomalyFlag'];
export type FleetAgent = Schemas['FleetAgent'];
export type FleetAgentDetail = Schemas['FleetAgentDetail'];
export type AuditRecord = Schemas['AuditRecord'];
export type VerifyResult = Schemas['VerifyResult'];
export type PolicySource = Schemas['PolicySource'];
export type PolicyVersion = Schemas['PolicyVersion'];
export type PolicyVersionDetail = Schemas['PolicyVersionDetail'];
export type FileDiff = Schemas['FileDiff'];
export type FlipGroup = Schemas['FlipGroup'];
export type ReplayReport = Schemas['ReplayReport'];
export type Simulation = Schemas['Simulation'];
export type Agent = Schemas['Agent'];
/** An agent on the management screen: its keys and when it was last seen. */
export type AgentListed = Schemas['AgentListed'];
export type ApiKey = Schemas['ApiKey'];
export type IssuedApiKey = Schemas['IssuedApiKey'];
export type RotatedApiKey = Schemas['RotatedApiKey'];
/** A person as admins manage them (GET /v1/users). */
export type ManagedUser = Schemas['User'];
export type PersonalToken = Schemas['PersonalToken'];
export type CreatedPersonalToken = Schemas['CreatedPersonalToken'];

export type AnomalyBaseline = Schemas['AnomalyBaseline'];
export type AnomalyAlert = Schemas['AnomalyAlert'];
export type ApprovalStats = Schemas['ApprovalStats'];
export type Delivery = Schemas['Delivery'];
export type Suggestion = Schemas['Suggestion'];
export type ShadowReport = Schemas['ShadowReport'];

/** Not described by the document (the body of a 422 answer to an invalid bundle: the dashboard's own reading of it). */
export interface PolicyProblem {
  code: string;
  file: string;
  line: number | null;
  /** 1-based column on `line` (absent from servers before column reporting). */
  column?: number | null;
  path: string | null;
  /** In plain words; `detail` keeps the parser's or type checker's own text. */
  message: string;
  detail?: string;
}
