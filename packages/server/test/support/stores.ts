import { join } from 'node:path';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { dropSchema, POSTGRES_URL, uniqueName } from './shared-services.js';
import { tempDir } from './temp-dir.js';

export interface StoreImplementation {
  name: string;
  /** A fresh, migrated store, and what removes it (the temporary file or the schema). */
  open(): Promise<{ store: Store; cleanup: () => Promise<void> }>;
}

/** Both stores, each opened fresh: a temporary SQLite file, a schema of its own on PostgreSQL. */
export function storeImplementations(prefix: string): StoreImplementation[] {
  return [
    {
      name: 'SQLite',
      async open() {
        const dir = tempDir(`airlock-${prefix}-`);
        return { store: await openSqliteStore(join(dir.path, 'airlock.db')), cleanup: async () => dir.remove() };
      },
    },
    {
      name: 'PostgreSQL',
      async open() {
        const schema = uniqueName(prefix.replaceAll('-', '_'));
        return { store: await openPostgresStore(POSTGRES_URL, { schema }), cleanup: () => dropSchema(schema) };
      },
    },
  ];
}

/**
 * Both stores as server options (startTestServer), for suites that run whole servers on each:
 * SQLite in the server's temporary data directory, PostgreSQL in a schema the suite names.
 */
export const serverStores = [
  { name: 'SQLite', options: (_schema: string) => ({}) },
  { name: 'PostgreSQL', options: (schema: string) => ({ databaseUrl: POSTGRES_URL, databaseSchema: schema }) },
];
