import type Sqlite from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { openConnection } from './connection.js';
import type { ReadReply, ReadRequest } from './read-protocol.js';

/**
 * Body of the SQLite reader thread (read-thread.ts): runs the store's queries whose cost grows
 * with the data (searches, insights, listings, exports) on its own connection, so that however
 * long one takes it never holds the event loop. `query_only`: nothing sent here can write.
 */
const port = parentPort;
if (!port) throw new Error('read-worker must run in a worker thread');
const { file } = workerData as { file: string };
const sqlite = openConnection(file, { fileMustExist: true });
sqlite.pragma('query_only = ON');

/**
 * Prepared statements by SQL text, least recently used dropped past the bound: the store's
 * queries are a few dozen shapes (an `IN` list of a new length is a new shape, hence the bound).
 */
const STATEMENTS = 256;
const statements = new Map<string, Sqlite.Statement>();

function prepared(text: string): Sqlite.Statement {
  let statement = statements.get(text);
  if (statement) {
    statements.delete(text);
  } else {
    statement = sqlite.prepare(text);
    if (statements.size >= STATEMENTS) statements.delete(statements.keys().next().value as string);
  }
  statements.set(text, statement);
  return statement;
}

port.on('message', (request: ReadRequest) => {
  if (request.kind === 'close') {
    sqlite.close();
    port.close();
    return;
  }
  let reply: ReadReply;
  try {
    const statement = prepared(request.sql);
    if (statement.reader) {
      reply = { id: request.id, ok: true, rows: statement.all(request.parameters) as Record<string, unknown>[] };
    } else {
      reply = { id: request.id, ok: true, rows: [], changes: statement.run(request.parameters).changes };
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    reply = { id: request.id, ok: false, message: error instanceof Error ? error.message : String(error), ...(typeof code === 'string' ? { code } : {}) };
  }
  port.postMessage(reply);
});
