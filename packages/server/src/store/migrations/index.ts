import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './001-initial.js';

/** Migrations in order; imported statically so they ship inside the compiled package. */
const MIGRATIONS: Record<string, Migration> = {
  '001-initial': initial,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(MIGRATIONS),
};
