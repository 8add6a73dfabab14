/**
 * The claim store's worker thread (see ClaimStoreThread): a DataSource of its own and a ClaimBatchStore, storing the
 * batches the main thread sends and answering each with its outcomes. Its event loop does nothing else, so a batch's
 * round trips to Postgres are answered as soon as they arrive.
 */
import 'reflect-metadata';
import { parentPort, workerData } from 'node:worker_threads';
import { DataSource } from 'typeorm';
import type { PostgresSettings } from '@claimchain/config';
import { EventKeys, eventSignerOf } from '@claimchain/messaging';
import { dataSourceOptions } from '../../persistence/data-source.options';
import { ClaimsRepository } from '../claims.repository';
import { ClaimBatchStore, PreparedClaim } from './claim-batch.store';
import { encodeOutcomes, StoreReply, StoreRequest } from './claim-store.protocol';

export interface ClaimStoreWorkerData {
  databaseUrl: string;
  /** Connections: one per batch in flight, and one to spare. */
  connections: number;
  /** The service's timeouts (its pool size is `connections`); none when omitted. */
  postgres?: PostgresSettings;
  /** claim-intake's event keys (EVENT_SIGNING_KEY_FILE): the claims' events are signed on this thread, ADR 18. */
  eventKeys: EventKeys;
}

async function main(port: NonNullable<typeof parentPort>, data: ClaimStoreWorkerData): Promise<void> {
  const options = dataSourceOptions(data.databaseUrl, data.postgres);
  const dataSource = new DataSource({ ...options, extra: { ...options.extra, max: data.connections } });
  const store = new ClaimBatchStore(
    dataSource,
    new ClaimsRepository(dataSource, eventSignerOf('claim-intake', data.eventKeys)),
  );
  // Connected on first use; a failed attempt (Postgres down at startup) fails those batches, and the next one tries
  // again rather than failing for good.
  let ready: Promise<unknown> | undefined;
  const connected = () =>
    (ready ??= dataSource.initialize().catch((error: unknown) => {
      ready = undefined;
      throw error;
    }));
  port.on('message', (request: StoreRequest) => {
    if (request.type === 'close') {
      void (dataSource.isInitialized ? dataSource.destroy() : Promise.resolve()).finally(() => port.close());
      return;
    }
    connected()
      .then(() => store.store(request.items as PreparedClaim[]))
      .then(
        (outcomes) => port.postMessage({ id: request.id, outcomes: encodeOutcomes(outcomes) } satisfies StoreReply),
        (error: unknown) => port.postMessage({ id: request.id, failed: String(error) } satisfies StoreReply),
      );
  });
  await connected();
}

if (parentPort) {
  const port = parentPort;
  main(port, workerData as ClaimStoreWorkerData).catch((error: unknown) => {
    // Batches are answered as failed meanwhile, and the next one connects again; this reaches the log.
    console.error(`claim store worker: could not connect yet: ${String(error)}`);
  });
}
