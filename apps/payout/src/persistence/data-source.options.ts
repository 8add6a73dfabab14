import { DataSourceOptions } from 'typeorm';
import { MessagingTables1732400000000 } from '@claimchain/messaging';
import { Payout1732400000001 } from './migrations/1732400000001-payout';
import { Cancellations1732400000002 } from './migrations/1732400000002-cancellations';

/** payout's own database. Schema changes only through these migrations. */
export function dataSourceOptions(url: string): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    synchronize: false,
    entities: [],
    migrations: [MessagingTables1732400000000, Payout1732400000001, Cancellations1732400000002],
    extra: { max: 20 },
  };
}
