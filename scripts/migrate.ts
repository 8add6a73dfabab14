import { DataSource, DataSourceOptions } from 'typeorm';
import { databaseUrlFor, ServiceName, SERVICE_NAMES } from '@claimchain/config';
import { dataSourceOptions as claimIntake } from '../apps/claim-intake/src/persistence/data-source.options';
import { dataSourceOptions as treatmentVerification } from '../apps/treatment-verification/src/persistence/data-source.options';
import { dataSourceOptions as ledgerAnchoring } from '../apps/ledger-anchoring/src/persistence/data-source.options';
import { dataSourceOptions as payout } from '../apps/payout/src/persistence/data-source.options';

/** Each service's migrations, run against its own database. The launcher, tests and the k8s migration Job use it. */
const OPTIONS: Record<ServiceName, (url: string) => DataSourceOptions> = {
  'claim-intake': claimIntake,
  'treatment-verification': treatmentVerification,
  'ledger-anchoring': ledgerAnchoring,
  payout,
};

export async function migrateService(service: ServiceName, url: string): Promise<string[]> {
  const ds = new DataSource({ ...OPTIONS[service](url), logging: ['error'] });
  await ds.initialize();
  try {
    const ran = await ds.runMigrations({ transaction: 'each' });
    return ran.map((m) => m.name);
  } finally {
    await ds.destroy();
  }
}

export async function migrateAll(baseUrl: string, prefix: string): Promise<void> {
  await Promise.all(SERVICE_NAMES.map((service) => migrateService(service, databaseUrlFor(service, baseUrl, prefix))));
}
