import { Global, Module } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { TypeOrmModule } from '@nestjs/typeorm';
import { createHttpApp, HealthModule, ReadinessProbe } from '@claimchain/http';
import { freshDatabase } from '@claimchain/testing';

const PROBES = Symbol('PROBES');

/**
 * The probes' contract on the real Postgres and over real HTTP: readiness (what Kubernetes routes traffic by) needs
 * only the database, so a Kafka outage does not take the APIs out of their Services; the pipeline check adds every
 * messaging probe, for the launcher, the tests and alerting.
 */
describe('health endpoints', () => {
  let app: NestFastifyApplication;
  let base: string;
  const consumer: ReadinessProbe & { up: boolean } = {
    name: 'kafka-consumer',
    up: true,
    isReady: () => consumer.up,
  };

  beforeAll(async () => {
    const url = await freshDatabase(`${process.env.DATABASE_PREFIX ?? 'claimchain_test'}_health`);
    // Global, as the messaging module that provides the probes in a service is.
    @Global()
    @Module({ providers: [{ provide: PROBES, useValue: [consumer] }], exports: [PROBES] })
    class ProbesModule {}
    app = await createHttpApp(
      {
        module: class HealthTestModule {},
        imports: [TypeOrmModule.forRoot({ type: 'postgres', url }), ProbesModule, HealthModule.forRoot(PROBES)],
      },
      { logLevel: 'error' },
    );
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });

  afterAll(async () => {
    await app?.close();
  });

  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`);
    return { status: res.status, body: (await res.json()) as { status: unknown; info?: object; checks?: object } };
  };

  it('is ready and its pipeline is up while the database answers and Kafka is connected', async () => {
    expect(await get('/health/ready')).toMatchObject({ status: 200, body: { status: 'ok' } });
    const pipeline = await get('/health/pipeline');
    expect(pipeline).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(pipeline.body.info).toMatchObject({ database: { status: 'up' }, 'kafka-consumer': { status: 'up' } });
  });

  it('stays ready when Kafka is not connected, and says so on the pipeline check', async () => {
    consumer.up = false;
    try {
      expect(await get('/health/ready')).toMatchObject({ status: 200, body: { status: 'ok' } });
      const pipeline = await get('/health/pipeline');
      expect(pipeline.status).toBe(503);
      // problem+json that names what is down, and what is not.
      expect(pipeline.body).toMatchObject({
        status: 503,
        checks: { database: { status: 'up' }, 'kafka-consumer': { status: 'down', reason: 'not connected' } },
      });
    } finally {
      consumer.up = true;
    }
  });

  it('is live even then: restarting the process would not bring Kafka back', async () => {
    consumer.up = false;
    try {
      expect(await get('/health/live')).toEqual({ status: 200, body: { status: 'ok' } });
    } finally {
      consumer.up = true;
    }
  });
});
