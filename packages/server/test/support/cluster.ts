import { startServer, type RunningServer, type StartOptions } from '../../src/index.js';
import { agent, signIn, type Caller, type Person } from './http.js';
import { ADMIN_PASSWORD } from './server.js';
import { deleteRedisPrefix, dropSchema, POSTGRES_URL, REDIS_URL, uniqueName } from './shared-services.js';
import { tempDir } from './temp-dir.js';

/** Several real server instances over one PostgreSQL schema and one Redis prefix of their own. */
export interface Cluster {
  instances: RunningServer[];
  schema: string;
  prefix: string;
  keys: Record<string, string>;
  agent(instance: number, id: string): Caller;
  admin(instance: number): Promise<Person>;
  /** Closes one instance and starts it again on its data directory (a rolling restart): it rebuilds what it keeps in memory. */
  restart(instance: number): Promise<void>;
  dispose(): Promise<void>;
}

export async function startCluster(count: number, options: StartOptions = {}): Promise<Cluster> {
  const schema = uniqueName('cluster');
  const prefix = `${uniqueName('cluster')}:`;
  const dirs: ReturnType<typeof tempDir>[] = [];
  const start = (dir = tempDir()) => {
    if (!dirs.includes(dir)) dirs.push(dir);
    return startServer({
      dataDir: dir.path,
      port: 0,
      adminPassword: ADMIN_PASSWORD,
      databaseUrl: POSTGRES_URL,
      databaseSchema: schema,
      redisUrl: REDIS_URL,
      redisPrefix: prefix,
      print: () => undefined,
      logError: () => undefined,
      ...options,
    });
  };
  // The first instance seeds the database (policies, admin, demo agents); the others find them.
  const first = await start();
  const rest = await Promise.all(Array.from({ length: count - 1 }, () => start()));
  const instances = [first, ...rest];
  const keys = Object.fromEntries((first.seeded.demoKeys ?? []).map((k) => [k.agent, k.key]));
  return {
    instances,
    schema,
    prefix,
    keys,
    agent: (i, id) => agent((instances[i] as RunningServer).url, keys[id] as string),
    admin: (i) => signIn((instances[i] as RunningServer).url, 'admin', ADMIN_PASSWORD),
    async restart(i) {
      await (instances[i] as RunningServer).close();
      instances[i] = await start(dirs[i]);
    },
    async dispose() {
      await Promise.all(instances.map((s) => s.close().catch(() => undefined)));
      for (const dir of dirs) dir.remove();
      await dropSchema(schema);
      await deleteRedisPrefix(prefix);
    },
  };
}
