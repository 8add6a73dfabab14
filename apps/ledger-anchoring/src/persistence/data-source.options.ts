import { DataSourceOptions } from 'typeorm';
import { PostgresSettings, postgresDriverOptions } from '@claimchain/config';
import { MESSAGING_MIGRATIONS } from '@claimchain/messaging';
import { Ledger1732400000001 } from './migrations/1732400000001-ledger';
import { LedgerLookupsAndAnchors1732400000002 } from './migrations/1732400000002-ledger-lookups-and-anchors';
import { LeafSalts1733600000000 } from './migrations/1733600000000-leaf-salts';
import { LeafCorrelation1733600002200 } from './migrations/1733600002200-leaf-correlation';

/**
 * ledger-anchoring's own database. Schema changes only through these migrations. The service passes its pool
 * settings (`postgres`); migrations and ops commands leave them out and run without timeouts.
 */
export function dataSourceOptions(url: string, postgres?: PostgresSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    synchronize: false,
    entities: [],
    migrations: [
      ...MESSAGING_MIGRATIONS,
      Ledger1732400000001,
      LedgerLookupsAndAnchors1732400000002,
      LeafSalts1733600000000,
      LeafCorrelation1733600002200,
    ],
    ...postgresDriverOptions(postgres),
  };
}
