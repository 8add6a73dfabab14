/**
 * The ledger's public read API alone (no Kafka, no checkpointer), on the service's own controller, read service,
 * repository and the shared Fastify + problem+json setup. Forked by ledger.bench.ts so the load generator does not
 * share this event loop. Needs BENCH_DATABASE_URL and BENCH_SIGNER_KEY; prints `listening <url>` when ready.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createHttpApp } from '@claimchain/http';
import { parseSignerKey } from '@claimchain/ledger';
import {
  dataSourceOptions,
  LedgerRepository,
  LatestCheckpointCache,
  NOTE_SIGNER,
  LedgerReadService,
  LedgerReadHttpController,
} from '../apps/ledger-anchoring/src';

async function main(): Promise<void> {
  const ds = new DataSource(dataSourceOptions(process.env.BENCH_DATABASE_URL!));
  await ds.initialize();

  @Module({
    controllers: [LedgerReadHttpController],
    providers: [
      { provide: DataSource, useValue: ds },
      { provide: NOTE_SIGNER, useValue: parseSignerKey(process.env.BENCH_SIGNER_KEY!) },
      LedgerRepository,
      LatestCheckpointCache,
      LedgerReadService,
    ],
  })
  class LedgerReadBenchModule {}

  const app = await createHttpApp({ module: LedgerReadBenchModule }, { logLevel: 'error' });
  await app.listen(0, '127.0.0.1');
  process.stdout.write(`listening ${await app.getUrl()}\n`);
  const stop = async () => {
    await app.close();
    await ds.destroy();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('disconnect', () => void stop());
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
