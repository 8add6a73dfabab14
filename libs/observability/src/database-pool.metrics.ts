import { Gauge, Registry } from 'prom-client';
import { DataSource } from 'typeorm';

/** The slice of pg's Pool that TypeORM's Postgres driver keeps as `master`. */
interface PgPoolCounts {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  options?: { max?: number };
}

/**
 * The service's database pool (the pg Pool behind TypeORM), read when Prometheus scrapes: connections idle and in
 * use, the pool's size limit, and queries waiting for a connection (above zero for long: the pool is too small
 * or the database too slow).
 */
export function registerDatabasePoolMetrics(registry: Registry, dataSource: DataSource): void {
  const pool = () => (dataSource.driver as unknown as { master?: PgPoolCounts }).master;
  new Gauge({
    name: 'claimchain_db_pool_connections',
    help: 'Connections of the database pool, by state (idle, in_use)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const p = pool();
      this.set({ state: 'idle' }, p?.idleCount ?? 0);
      this.set({ state: 'in_use' }, p ? p.totalCount - p.idleCount : 0);
    },
  });
  new Gauge({
    name: 'claimchain_db_pool_max_connections',
    help: 'The database pool size limit',
    registers: [registry],
    collect() {
      this.set(pool()?.options?.max ?? 0);
    },
  });
  new Gauge({
    name: 'claimchain_db_pool_waiting_requests',
    help: 'Queries waiting for a connection of the database pool',
    registers: [registry],
    collect() {
      this.set(pool()?.waitingCount ?? 0);
    },
  });
}
