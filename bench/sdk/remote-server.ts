import { startServer } from '@airlock/server';

/**
 * An Airlock server in its own process, on the data directory given as the first argument, so the
 * SDK being timed does not share its event loop. run.ts starts it with the server package's
 * tsconfig (no path aliases), so `@airlock/server` is the built package. Prints one line: the URL
 * and the seeded support agent's API key.
 */
const [dataDir] = process.argv.slice(2);
const server = await startServer({ dataDir, port: 0, print: () => undefined });
const key = server.seeded.demoKeys?.find((demo) => demo.agent === 'support-bot-1')?.key;
if (!key) throw new Error('the server did not seed the support agent');
process.stdout.write(`${JSON.stringify({ url: server.url, key })}\n`);
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
