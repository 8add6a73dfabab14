import { DataSourceOptions } from 'typeorm';
import { PostgresSettings, postgresDriverOptions } from '@claimchain/config';
import { IdempotencyKeys1732400000010, IdempotencyKeysCreatedAt1733400000010 } from '@claimchain/http';
import { MESSAGING_MIGRATIONS } from '@claimchain/messaging';
import { Payout1732400000001 } from './migrations/1732400000001-payout';
import { Cancellations1732400000002 } from './migrations/1732400000002-cancellations';
import { LeafSalts1733600000000 } from './migrations/1733600000000-leaf-salts';
import { ContractLifecycle1733700000000 } from './migrations/1733700000000-contract-lifecycle';
import { Policies1732400000003 } from './migrations/1732400000003-policies';
import { Reviews1732400000004 } from './migrations/1732400000004-reviews';
import { PaymentRail1732400000005 } from './migrations/1732400000005-payment-rail';
import { LedgerTrust1732400000006 } from './migrations/1732400000006-ledger-trust';
import { PayoutEndpoints1732500000100 } from './migrations/1732500000100-payout-endpoints';
import { PayoutRetries1732600000200 } from './migrations/1732600000200-payout-retries';
import { PayoutsDueIndex1733300000300 } from './migrations/1733300000300-payouts-due-index';
import { RailBeforeSubmission1733500000400 } from './migrations/1733500000400-rail-before-submission';
import { PayoutCausation1733600002300 } from './migrations/1733600002300-payout-causation';
import { HeldClaims1733700000500 } from './migrations/1733700000500-held-claims';
import { PayoutsDueNotify1733800000100 } from './migrations/1733800000100-payouts-due-notify';
import { VerificationWithdrawals1733700000700 } from './migrations/1733700000700-verification-withdrawals';
import { SetAsideAdjudications1733800000200 } from './migrations/1733800000200-set-aside-adjudications';

/**
 * payout's own database. Schema changes only through these migrations. The service passes its pool settings
 * (`postgres`); migrations and ops commands leave them out and run without timeouts.
 */
export function dataSourceOptions(url: string, postgres?: PostgresSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    synchronize: false,
    entities: [],
    migrations: [
      ...MESSAGING_MIGRATIONS,
      Payout1732400000001,
      Cancellations1732400000002,
      Policies1732400000003,
      Reviews1732400000004,
      PaymentRail1732400000005,
      LedgerTrust1732400000006,
      IdempotencyKeys1732400000010,
      PayoutEndpoints1732500000100,
      PayoutRetries1732600000200,
      PayoutsDueIndex1733300000300,
      IdempotencyKeysCreatedAt1733400000010,
      RailBeforeSubmission1733500000400,
      LeafSalts1733600000000,
      PayoutCausation1733600002300,
      HeldClaims1733700000500,
      ContractLifecycle1733700000000,
      VerificationWithdrawals1733700000700,
      PayoutsDueNotify1733800000100,
      SetAsideAdjudications1733800000200,
    ],
    ...postgresDriverOptions(postgres),
  };
}
