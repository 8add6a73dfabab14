import { DataSource, DataSourceOptions } from 'typeorm';
import { databaseUrlFor, loadServiceConfig, ServiceName, SERVICE_NAMES } from '@claimchain/config';
import { dataSourceOptions as claimIntake } from '../apps/claim-intake/src';
import { dataSourceOptions as treatmentVerification } from '../apps/treatment-verification/src';
import { dataSourceOptions as ledgerAnchoring } from '../apps/ledger-anchoring/src';
import { dataSourceOptions as payout } from '../apps/payout/src';

/**
 * Each service's migrations, run against its own database. The launcher, the tests and the k8s migration Jobs use
 * it; as a command, `node dist/scripts/migrate.js [service...]` (all four without arguments) migrates the databases
 * the services' own configuration names (DATABASE_URL, DATABASE_PREFIX).
 */
const OPTIONS: Record<ServiceName, (url: string) => DataSourceOptions> = {
  'claim-intake': claimIntake,
  'treatment-verification': treatmentVerification,
  'ledger-anchoring': ledgerAnchoring,
  payout,
};

/** Session advisory lock (per database) held while migrating: two runs at once take turns; the second has nothing to do. */
const MIGRATION_LOCK_ID = 0x6d696772; // "migr"

export async function migrateService(service: ServiceName, url: string): Promise<string[]> {
  const ds = new DataSource({ ...OPTIONS[service](url), logging: ['error'] });
  await ds.initialize();
  const lock = ds.createQueryRunner();
  try {
    await lock.connect();
    await lock.query(`SELECT pg_advisory_lock($1)`, [MIGRATION_LOCK_ID]);
    const ran = await ds.runMigrations({ transaction: 'each' });
    return ran.map((m) => m.name);
  } finally {
    // A session lock outlives the connection's return to the pool: let go of it first.
    await lock.query(`SELECT pg_advisory_unlock($1)`, [MIGRATION_LOCK_ID]).catch(() => undefined);
    await lock.release();
    await ds.destroy();
  }
}

export async function migrateAll(baseUrl: string, prefix: string): Promise<void> {
  await Promise.all(SERVICE_NAMES.map((service) => migrateService(service, databaseUrlFor(service, baseUrl, prefix))));
}

async function main(args: string[]): Promise<number> {
  const unknown = args.filter((a) => !SERVICE_NAMES.includes(a as ServiceName));
  if (unknown.length > 0) {
    console.error(`usage: migrate [${SERVICE_NAMES.join('|')} ...]   (unknown: ${unknown.join(' ')})`);
    return 2;
  }
  for (const service of (args.length > 0 ? args : SERVICE_NAMES) as ServiceName[]) {
    const ran = await migrateService(service, loadServiceConfig(service).databaseUrl);
    console.log(`${service}: ${ran.length} migration(s) run${ran.length > 0 ? `: ${ran.join(' ')}` : ''}`);
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error('migration failed:', error);
      process.exit(1);
    },
  );
}
