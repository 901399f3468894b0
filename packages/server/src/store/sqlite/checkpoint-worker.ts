import { parentPort, workerData } from 'node:worker_threads';
import { openConnection } from './connection.js';

/**
 * Body of the SQLite checkpointer thread: copies the WAL's committed pages into the database
 * file every `intervalMs` (PASSIVE: never waits for the writer, never blocks it; the settings are
 * write-thread.ts's DEFAULT_CHECKPOINTS), so that the writer thread, whose own automatic
 * checkpoint is set far higher (write-worker.ts), does not copy and fsync megabytes of pages
 * inside a decision batch's commit, before the batch's answers: the copy's I/O runs beside the
 * writer instead.
 */
const port = parentPort;
if (!port) throw new Error('checkpoint-worker must run in a worker thread');
const { file, intervalMs, restartFrames } = workerData as { file: string; intervalMs: number; restartFrames: number };
const sqlite = openConnection(file, { fileMustExist: true });
// Never wait: a RESTART that waited (busy handler, sleeping up to 100 ms a step) for a reader to
// finish would hold the writer lock meanwhile, and every decision batch with it (a 510 ms p99 in
// bench:server). Busy now means: try again at the next tick.
sqlite.pragma('busy_timeout = 0');

/*
 * Past `restartFrames` WAL frames, once all of them are copied, the checkpointer also restarts
 * the log. A PASSIVE checkpoint beside a busy writer rarely finds the log fully copied just before
 * the next write, which is when SQLite starts the log over by itself, so without this the WAL
 * would only grow. A RESTART waits for the writer's current transaction and holds the next one
 * back while it copies what came meanwhile and syncs the database file: 1-13 ms measured under
 * load, the commit waiting behind it as long (write-thread.ts, DEFAULT_CHECKPOINTS).
 */

interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

const timer = setInterval(() => {
  try {
    const [passive] = sqlite.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[];
    if (passive && passive.log >= restartFrames && passive.checkpointed === passive.log) sqlite.pragma('wal_checkpoint(RESTART)');
  } catch (error) {
    // SQLITE_BUSY and the like: the next tick tries again, and the writer's own checkpoint is the backstop.
    console.error(`airlock: WAL checkpoint: ${error instanceof Error ? error.message : String(error)}`);
  }
}, intervalMs);

port.on('message', () => {
  clearInterval(timer);
  sqlite.close();
  port.close();
});
