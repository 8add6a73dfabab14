import { DataSource, QueryFailedError, QueryRunner } from 'typeorm';
import { DEFAULT_DATABASE_URL, MAX_PREPARED_PER_CONNECTION, postgresDriverOptions } from '@claimchain/config';
import { classifyFailure } from '@claimchain/messaging';

/**
 * Every service's pool prepares its parameterised statements once per connection (PreparedStatementClient): on the
 * real Postgres, the answers are the same as unprepared, the statement is prepared on the session, and failures
 * still reach the code (and the failure classification) as before.
 */
describe('prepared statements on the services’ pools', () => {
  let ds: DataSource;
  let session: QueryRunner;
  const prepared = async (): Promise<string[]> =>
    ((await session.query(`SELECT statement FROM pg_prepared_statements`)) as { statement: string }[]).map(
      (r) => r.statement,
    );

  beforeAll(async () => {
    ds = await new DataSource({
      type: 'postgres',
      url: process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
      ...postgresDriverOptions(),
    }).initialize();
    session = ds.createQueryRunner();
    await session.connect();
  });

  afterAll(async () => {
    await session?.release();
    await ds?.destroy();
  });

  it('prepares a parameterised statement once and answers from it each time', async () => {
    const text = `SELECT $1::int * 2 AS doubled, $2::text AS label`;
    expect(await session.query(text, [21, 'a'])).toEqual([{ doubled: 42, label: 'a' }]);
    expect(await session.query(text, [4, 'b'])).toEqual([{ doubled: 8, label: 'b' }]);
    expect((await prepared()).filter((s) => s === text)).toHaveLength(1);
    // No parameters: sent as a simple query, never prepared.
    await session.query(`SELECT 1 AS one`);
    expect(await prepared()).not.toContain(`SELECT 1 AS one`);
  });

  it('keeps a statement prepared inside a transaction that rolled back usable afterwards', async () => {
    const text = `SELECT $1::int + 1 AS n`;
    await session.startTransaction();
    expect(await session.query(text, [1])).toEqual([{ n: 2 }]);
    await session.rollbackTransaction();
    expect(await session.query(text, [2])).toEqual([{ n: 3 }]);
  });

  it('fails a statement as before: a QueryFailedError with its SQLSTATE, classified the same', async () => {
    const divide = `SELECT 1 / $1::int AS q`;
    const error = await session.query(divide, [0]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryFailedError);
    expect((error as { driverError: { code: string } }).driverError.code).toBe('22012');
    expect(classifyFailure(error)).toBe('permanent');
    expect(await session.query(divide, [2])).toEqual([{ q: 0 }]);
  });

  it('runs statements beyond the per-connection cap unprepared, with the same answers', async () => {
    const own = ds.createQueryRunner();
    await own.connect();
    try {
      for (let i = 0; i < MAX_PREPARED_PER_CONNECTION + 5; i++) {
        expect(await own.query(`SELECT $1::int + ${i} AS n`, [1])).toEqual([{ n: i + 1 }]);
      }
      const [{ count }] = (await own.query(`SELECT count(*)::int AS count FROM pg_prepared_statements`)) as {
        count: number;
      }[];
      expect(count).toBe(MAX_PREPARED_PER_CONNECTION);
    } finally {
      await own.release();
    }
  });
});
