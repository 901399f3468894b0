import { configFromEnvironment, startServer } from '@airlock/server';

/**
 * The Airlock server in its own process, on the data directory given as the first argument.
 * run.ts starts it with a tsconfig without path aliases, so `@airlock/server` is the compiled
 * package that `npm start` runs.
 */
const [dataDir] = process.argv.slice(2);
const server = await startServer({ ...configFromEnvironment({}, process.env), dataDir, port: 0, print: () => undefined });
process.stdout.write(`${JSON.stringify({ url: server.url, entry: import.meta.resolve('@airlock/server') })}\n`);
process.once('SIGTERM', () => void server.close());
