import { parentPort, workerData } from 'node:worker_threads';
import { openConnection } from './connection.js';
import { INDEX_CHUNK, INDEX_IDLE_MS, SqliteSyncBatchWriter } from './sync-batch-writer.js';
import { unpackEntries, type WriteReply, type WriteRequest } from './write-protocol.js';

/**
 * Body of the SQLite writer thread: its own connection, requests handled one at a time in arrival
 * order, each synchronously (better-sqlite3), so a batch never interleaves with another.
 */
const port = parentPort;
if (!port) throw new Error('write-worker must run in a worker thread');
const { file } = workerData as { file: string };
const sqlite = openConnection(file, { fileMustExist: true });
// The checkpointer thread checkpoints every 25 ms (write-thread.ts, DEFAULT_CHECKPOINTS); this connection's own
// automatic checkpoint, inside a commit, is only the backstop should it fall behind (64 MiB of WAL).
sqlite.pragma('wal_autocheckpoint = 16384');
const writer = new SqliteSyncBatchWriter(sqlite);
// Records a previous run committed and did not index (a crash): indexed before anything else.
writer.indexPending();

/**
 * The argument index is written between decision batches, INDEX_CHUNK records per transaction
 * (one transaction per batch of ~25 cost ~22 µs a record, one per 128 ~14 µs): at once when
 * half a chunk waits, else after INDEX_IDLE_MS. A setImmediate callback runs after the messages
 * already waiting (the poll phase comes first), so a decision batch that has arrived is committed
 * before the next index chunk, and waits for one chunk at most.
 */
let indexing = false;
function indexLater(): void {
  if (indexing || writer.pendingIndex === 0) return;
  indexing = true;
  const run = (): void => {
    indexing = false;
    try {
      writer.indexPending(INDEX_CHUNK);
    } catch (error) {
      // Not lost: the records stay queued, and past the watermark for the next start.
      console.error(`airlock: argument index: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    indexLater();
  };
  if (writer.pendingIndex >= INDEX_CHUNK / 2) setImmediate(run);
  else setTimeout(run, INDEX_IDLE_MS);
}

function handle(request: WriteRequest): WriteReply {
  switch (request.kind) {
    case 'commit': {
      const sealed = writer.commit(unpackEntries(request.entries));
      indexLater();
      return { id: request.id, ok: true, sealed };
    }
    case 'flush':
      writer.indexPending();
      return { id: request.id, ok: true };
    case 'apply':
      writer.apply(request.writes);
      return { id: request.id, ok: true };
    case 'ping':
      writer.ping();
      return { id: request.id, ok: true };
    case 'close':
      writer.indexPending();
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
