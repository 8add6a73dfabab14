import { DataSourceOptions } from 'typeorm';
import { PostgresSettings, postgresDriverOptions } from '@claimchain/config';
import { IdempotencyKeys1732400000010, IdempotencyKeysCreatedAt1733400000010 } from '@claimchain/http';
import { MESSAGING_MIGRATIONS } from '@claimchain/messaging';
import { Claims1732400000001 } from './migrations/1732400000001-claims';
import { ClaimLifecycle1732400000002 } from './migrations/1732400000002-claim-lifecycle';
import { Receipts1732400000003 } from './migrations/1732400000003-receipts';
import { PaymentState1732600000100 } from './migrations/1732600000100-payment-state';
import { ExactSubmission1732600000300 } from './migrations/1732600000300-exact-submission';
import { LeafSalts1733600000000 } from './migrations/1733600000000-leaf-salts';
import { PaymentPending1733700000000 } from './migrations/1733700000000-payment-pending';

/**
 * claim-intake's own database. Schema changes only through these migrations, never `synchronize`. The service
 * passes its pool settings (`postgres`); migrations and ops commands leave them out and run without timeouts.
 */
export function dataSourceOptions(url: string, postgres?: PostgresSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    synchronize: false,
    entities: [],
    migrations: [
      ...MESSAGING_MIGRATIONS,
      Claims1732400000001,
      ClaimLifecycle1732400000002,
      IdempotencyKeys1732400000010,
      Receipts1732400000003,
      PaymentState1732600000100,
      ExactSubmission1732600000300,
      IdempotencyKeysCreatedAt1733400000010,
      LeafSalts1733600000000,
      PaymentPending1733700000000,
    ],
    ...postgresDriverOptions(postgres),
  };
}
