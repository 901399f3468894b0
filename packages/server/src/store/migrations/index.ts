import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './001-initial.js';
import * as approvalRouting from './002-approval-routing.js';
import * as context from './003-context.js';
import * as timedPauses from './004-timed-pauses.js';
import * as decisionClaims from './005-decision-claims.js';
import * as userTokens from './006-user-tokens.js';
import * as auditForwarder from './008-audit-forwarder.js';
import * as searchIndexes from './009-search-indexes.js';
import * as management from './010-management.js';
import * as oidcIdentities from './011-oidc-identities.js';
import * as policyVersionNotes from './012-policy-version-notes.js';
import * as approverKind from './013-approver-kind.js';
import * as executionOutcomes from './014-execution-outcomes.js';
import * as outcomeFailureRates from './015-outcome-failure-rates.js';
import * as searchPlans from './016-search-plans.js';
import * as deferredArgIndex from './017-deferred-arg-index.js';
import * as auditArchives from './018-audit-archives.js';
import * as decisionCounts from './019-decision-counts.js';

/** Migrations in order; imported statically so they ship inside the compiled package. */
const MIGRATIONS: Record<string, Migration> = {
  '001-initial': initial,
  '002-approval-routing': approvalRouting,
  '003-context': context,
  '004-timed-pauses': timedPauses,
  '005-decision-claims': decisionClaims,
  '006-user-tokens': userTokens,
  '008-audit-forwarder': auditForwarder,
  '009-search-indexes': searchIndexes,
  '010-management': management,
  '011-oidc-identities': oidcIdentities,
  '012-policy-version-notes': policyVersionNotes,
  '013-approver-kind': approverKind,
  '014-execution-outcomes': executionOutcomes,
  '015-outcome-failure-rates': outcomeFailureRates,
  '016-search-plans': searchPlans,
  '017-deferred-arg-index': deferredArgIndex,
  '018-audit-archives': auditArchives,
  '019-decision-counts': decisionCounts,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(MIGRATIONS),
};
