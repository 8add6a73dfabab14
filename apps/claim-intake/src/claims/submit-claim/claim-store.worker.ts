/**
 * The claim store's worker thread (see ClaimStoreThread): a DataSource of its own and a ClaimBatchStore, storing the
 * batches the main thread sends and answering each with its outcomes. Its event loop does nothing else, so a batch's
 * round trips to Postgres are answered as soon as they arrive.
 */
import 'reflect-metadata';
import { parentPort, workerData } from 'node:worker_threads';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../persistence/data-source.options';
import { ClaimsRepository } from '../../persistence/claims.repository';
import { ClaimBatchStore, PreparedClaim } from './claim-batch.store';
import { encodeOutcomes, StoreReply, StoreRequest } from './claim-store.protocol';

export interface ClaimStoreWorkerData {
  databaseUrl: string;
  /** Connections: one per batch in flight, and one to spare. */
  connections: number;
}

async function main(port: NonNullable<typeof parentPort>, data: ClaimStoreWorkerData): Promise<void> {
  const options = dataSourceOptions(data.databaseUrl);
  const dataSource = new DataSource({ ...options, extra: { ...options.extra, max: data.connections } });
  const ready = dataSource.initialize();
  const store = new ClaimBatchStore(dataSource, new ClaimsRepository(dataSource));
  port.on('message', (request: StoreRequest) => {
    if (request.type === 'close') {
      void dataSource.destroy().finally(() => port.close());
      return;
    }
    ready
      .then(() => store.store(request.items as PreparedClaim[]))
      .then(
        (outcomes) => port.postMessage({ id: request.id, outcomes: encodeOutcomes(outcomes) } satisfies StoreReply),
        (error: unknown) => port.postMessage({ id: request.id, failed: String(error) } satisfies StoreReply),
      );
  });
  await ready;
}

if (parentPort) {
  const port = parentPort;
  main(port, workerData as ClaimStoreWorkerData).catch((error: unknown) => {
    // Batches sent meanwhile are answered as failed by the `ready` chain; this reaches the log.
    console.error(`claim store worker: ${String(error)}`);
  });
}
