import { DataSourceOptions } from 'typeorm';
import { PostgresSettings, postgresDriverOptions } from '@claimchain/config';
import { IdempotencyKeys1732400000010, IdempotencyKeysCreatedAt1733400000010 } from '@claimchain/http';
import { MESSAGING_MIGRATIONS } from '@claimchain/messaging';
import { Confirmations1732400000001 } from './migrations/1732400000001-confirmations';
import { PendingConfirmations1732400000002 } from './migrations/1732400000002-pending-confirmations';
import { PendingConfirmationsIndex1733400000100 } from './migrations/1733400000100-pending-confirmations-index';
import { ConfirmationsPerProvider1733500000000 } from './migrations/1733500000000-confirmations-per-provider';
import { Attestations1733500000100 } from './migrations/1733500000100-attestations';
import { LineMatchingAndCorrections1733600000100 } from './migrations/1733600000100-line-matching-and-corrections';
import { ClaimCorrelation1733600002100 } from './migrations/1733600002100-claim-correlation';
import { WithdrawalsBeforePayout1733700000800 } from './migrations/1733700000800-withdrawals-before-payout';

/**
 * treatment-verification's own database. Schema changes only through these migrations. The service passes its
 * pool settings (`postgres`); migrations and ops commands leave them out and run without timeouts.
 */
export function dataSourceOptions(url: string, postgres?: PostgresSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    synchronize: false,
    entities: [],
    migrations: [
      ...MESSAGING_MIGRATIONS,
      Confirmations1732400000001,
      PendingConfirmations1732400000002,
      PendingConfirmationsIndex1733400000100,
      IdempotencyKeys1732400000010,
      IdempotencyKeysCreatedAt1733400000010,
      ConfirmationsPerProvider1733500000000,
      Attestations1733500000100,
      LineMatchingAndCorrections1733600000100,
      ClaimCorrelation1733600002100,
      WithdrawalsBeforePayout1733700000800,
    ],
    ...postgresDriverOptions(postgres),
  };
}
