import { parentPort, workerData } from 'node:worker_threads';
import { Kysely, SqliteDialect } from 'kysely';
import type { PreparedEntry } from '../../audit/record.js';
import { KyselyBatchWriter } from '../batch-writer.js';
import type { Database } from '../schema.js';
import { openConnection } from './connection.js';
import type { WriteReply, WriteRequest } from './write-protocol.js';

/**
 * Body of the SQLite writer thread: its own connection and the same batch writer the store would
 * use in-process. Requests are handled in arrival order (the driver serialises transactions).
 */
const port = parentPort;
if (!port) throw new Error('write-worker must run in a worker thread');
const { file } = workerData as { file: string };
const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: openConnection(file, { fileMustExist: true }) }) });
const writer = new KyselyBatchWriter(db);

async function handle(request: WriteRequest): Promise<WriteReply> {
  switch (request.kind) {
    case 'commit':
      return { id: request.id, ok: true, sealed: await writer.commit(JSON.parse(request.entries) as PreparedEntry[]) };
    case 'apply':
      await writer.apply(request.writes);
      return { id: request.id, ok: true };
    case 'ping':
      await writer.ping();
      return { id: request.id, ok: true };
    case 'close':
      await db.destroy();
      return { id: request.id, ok: true };
  }
}

port.on('message', (request: WriteRequest) => {
  handle(request).then(
    (reply) => {
      port.postMessage(reply);
      if (request.kind === 'close') port.close();
    },
    (error: unknown) => port.postMessage({ id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) } satisfies WriteReply),
  );
});
