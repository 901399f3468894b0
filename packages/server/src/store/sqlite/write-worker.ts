import { parentPort, workerData } from 'node:worker_threads';
import { openConnection } from './connection.js';
import { SqliteSyncBatchWriter } from './sync-batch-writer.js';
import { unpackEntries, type WriteReply, type WriteRequest } from './write-protocol.js';

/**
 * Body of the SQLite writer thread: its own connection, requests handled one at a time in arrival
 * order, each synchronously (better-sqlite3), so a batch never interleaves with another.
 */
const port = parentPort;
if (!port) throw new Error('write-worker must run in a worker thread');
const { file } = workerData as { file: string };
const sqlite = openConnection(file, { fileMustExist: true });
const writer = new SqliteSyncBatchWriter(sqlite);

function handle(request: WriteRequest): WriteReply {
  switch (request.kind) {
    case 'commit':
      return { id: request.id, ok: true, sealed: writer.commit(unpackEntries(request.entries)) };
    case 'apply':
      writer.apply(request.writes);
      return { id: request.id, ok: true };
    case 'ping':
      writer.ping();
      return { id: request.id, ok: true };
    case 'close':
      sqlite.close();
      return { id: request.id, ok: true };
  }
}

port.on('message', (request: WriteRequest) => {
  let reply: WriteReply;
  try {
    reply = handle(request);
  } catch (error) {
    reply = { id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
  if (request.kind === 'close' && reply.ok) port.close();
});
