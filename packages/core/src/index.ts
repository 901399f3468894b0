export { compile, Engine } from './engine/engine.js';
export type { EngineOptions } from './engine/engine.js';
export type {
  ApprovalRoute,
  ApprovalTier,
  DecidedBy,
  Decision,
  DecisionRequest,
  Effect,
  LimitOutcome,
  MatchedRule,
  PolicyRef,
  RiskLevel,
  SessionAttributes,
  TimeoutAction,
} from './engine/types.js';
export { DEFAULT_ROUTE } from './engine/approval-route.js';
export { approverGroups } from './policy/approver-groups.js';
export {
  checkArgsSize,
  decisionRequestSchema,
  DEFAULT_ENVIRONMENT,
  MAX_ARGS_BYTES,
  MAX_ARGS_DEPTH,
  MAX_INTENT_LENGTH,
  MAX_SESSION_ATTRIBUTES,
  parseDecisionRequest,
  sessionAttributesSchema,
} from './engine/request.js';
export { toolArgsSchema } from './engine/args-validator.js';
export { decisionRisk, outcomeLevel, riskEffect, riskLevel } from './engine/risk.js';
export type { ToolReach } from './engine/reach.js';
export { loadBundle, locator, parseBundle, readPolicySources, digestSources, formatPath } from './policy/load.js';
export { scopeSources } from './policy/scope.js';
export type { LoadedPolicy, Locator, PolicyBundle, PolicySource, Positioner, SourcePosition } from './policy/load.js';
export { DEFAULT_RISK_TIERS, EFFECTS, limitKindOf, limitsOf, policyDocumentSchema, TIMEOUT_ACTIONS } from './policy/document.js';
export type {
  ApprovalRouteDocument,
  ApprovalTierDocument,
  EnvironmentOverride,
  JsonSchema,
  LimitDocument,
  LimitKind,
  PolicyDocument,
  RiskTiers,
  RuleDocument,
  ToolDefinition,
} from './policy/document.js';
export { DECISION_ERROR_CODES, formatLoadError, PolicyLoadError } from './errors.js';
export type { DecisionError, DecisionErrorCode, LoadError, LoadErrorCode, LocatedError } from './errors.js';
export { isExceeded, isSyncCounterStore } from './limits/counter-store.js';
export type { ConsumeOutcome, CounterStore, LimitCheck, LimitCheckResult, Release, SyncCounterStore } from './limits/counter-store.js';
export { releasesOf, reservationOf, type Reservation, type ReservedLimit } from './limits/reservation.js';
export { MemoryCounterStore } from './limits/memory-counter-store.js';
export { MemorySeenStore, SEEN_ENTRY_COST, SEEN_MAX_CHARS } from './limits/seen-store.js';
export type { SeenStore } from './limits/seen-store.js';
export { parseDuration } from './duration.js';
export { pauseCovers, type PauseScope } from './pause-scope.js';
export { BUDGET_SCALE } from './limits/counter-store.js';
export { restoreConsumption, restoreReleased, restoreReservation, type ConsumptionSink } from './limits/restore.js';
export { callHash, canonicalJson, sha256Bytes, sha256Hex } from './engine/canonical.js';
export { holdsUnstorableText, isStorableText, jsonTextProblem, MAX_JSON_DEPTH, MAX_JSON_VALUES, nestsDeeperThan, storableText, withStorableText } from './engine/json-text.js';
export type { JsonTextProblem } from './engine/json-text.js';
export { policySuiteSchema } from './testing/suite-schema.js';
export { JSON_SCHEMA_FILES, jsonSchema, jsonSchemaFiles } from './json-schemas.js';
export type { JsonSchemaFile } from './json-schemas.js';
export type { ApprovalExpectation, Expectation, PolicySuite, SuiteRequest, TestCase, TestStep } from './testing/suite-schema.js';
export { loadSuites, parseSuite, suiteBundlePath, SuiteLoadError } from './testing/load-suite.js';
export type { LoadedSuite, SuiteError, SuiteErrorCode } from './testing/load-suite.js';
export { runSuites } from './testing/run-suite.js';
export type { ActualOutcome, CallResult, CaseResult, CheckedField, SuiteResult } from './testing/run-suite.js';
export { inTimeOrder, Replay, replayCalls, replayStream } from './replay/replay.js';
export type { EffectTotals, FlipExample, FlipGroup, RecordedCall, ReplayOptions, ReplayReport } from './replay/replay.js';
export { checkBundle, checkSources } from './analysis/check.js';
export { FINDING_CODES, formatFinding, SEVERITIES } from './analysis/findings.js';
export type {
  CoverageRegion,
  Finding,
  FindingCode,
  PolicyCheck,
  RegionDecision,
  Severity,
  ToolCoverage,
} from './analysis/findings.js';
export { regionContains, regionText } from './analysis/regions.js';
export type { Constraint, Interval, Region } from './analysis/regions.js';
export { roundDown, suggestThresholds } from './trust/suggest.js';
export type { ApprovalEvidence, ApprovalVerdict, SuggestOptions, ThresholdEvidence, ThresholdSuggestion } from './trust/suggest.js';
export { decisionSpanAttributes, SPAN_NAMES } from './telemetry/span-attributes.js';
export type { SpanAttributeValue } from './telemetry/span-attributes.js';
