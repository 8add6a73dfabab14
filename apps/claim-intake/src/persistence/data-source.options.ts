import { DataSourceOptions } from 'typeorm';
import { MessagingTables1732400000000 } from '@claimchain/messaging';
import { Claims1732400000001 } from './migrations/1732400000001-claims';

/** claim-intake's own database. Schema changes only through these migrations, never `synchronize`. */
export function dataSourceOptions(url: string): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    synchronize: false,
    entities: [],
    migrations: [MessagingTables1732400000000, Claims1732400000001],
    extra: { max: 20 },
  };
}
