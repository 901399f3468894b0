import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './001-initial.js';
import * as approvalRouting from './002-approval-routing.js';
import * as context from './003-context.js';
import * as timedPauses from './004-timed-pauses.js';
import * as decisionClaims from './005-decision-claims.js';
import * as userTokens from './006-user-tokens.js';
import * as executionOutcomes from './007-execution-outcomes.js';
import * as auditForwarder from './008-audit-forwarder.js';

/** Migrations in order; imported statically so they ship inside the compiled package. */
const MIGRATIONS: Record<string, Migration> = {
  '001-initial': initial,
  '002-approval-routing': approvalRouting,
  '003-context': context,
  '004-timed-pauses': timedPauses,
  '005-decision-claims': decisionClaims,
  '006-user-tokens': userTokens,
  '007-execution-outcomes': executionOutcomes,
  '008-audit-forwarder': auditForwarder,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(MIGRATIONS),
};
