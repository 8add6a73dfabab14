import { AddressInfo, connect, createServer, Server, Socket } from 'node:net';
import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { Topics } from '@claimchain/wire';
import { waitFor } from '@claimchain/testing';
import { fhirClaim, newKey, RunningSystem, startSystem } from './system';

/**
 * A service that starts while the broker is away (a pod rescheduled during a broker outage, a restart in the middle
 * of one) serves its API at once and joins Kafka when the broker is back, by itself. It used to exit after kafkajs'
 * connection retries and be restarted with a growing backoff, refusing claims meanwhile although only Postgres is
 * on the submit path.
 */
describe('a service started while Kafka is unreachable', () => {
  let system: RunningSystem;
  let gate: Server;
  let gatePort: number;
  const sockets = new Set<Socket>();
  const tenant = `insurer-${uuidv4().slice(0, 8)}`;

  beforeAll(async () => {
    // The service's only broker address is a port nobody listens on yet; `open()` later forwards it to the test
    // broker (whose metadata then points the client at the broker itself).
    gate = createServer((client) => {
      const [host, port] = process.env.KAFKA_BROKERS!.split(',')[0].split(':');
      const upstream = connect(Number(port), host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => s.destroy()).on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    gate.listen(0, '127.0.0.1');
    await new Promise((resolve) => gate.once('listening', resolve));
    gatePort = (gate.address() as AddressInfo).port;
    await new Promise((resolve) => gate.close(resolve)); // closed: connections to it are refused

    system = await startSystem({
      services: ['claim-intake'],
      env: { KAFKA_BROKERS: `127.0.0.1:${gatePort}` },
      waitForPipeline: false,
    });
  }, 60_000);

  afterAll(async () => {
    await system?.stop();
    for (const s of sockets) s.destroy();
    gate.close();
  });

  const health = async (path: string) => {
    const res = await fetch(system.url('claim-intake', path));
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('answers live and ready, and says on /health/pipeline that it is waiting for Kafka', async () => {
    expect((await health('/health/live')).status).toBe(200);
    expect((await health('/health/ready')).status).toBe(200);
    await waitFor('the pipeline check to name the Kafka connection', async () => {
      const pipeline = await health('/health/pipeline');
      return pipeline.status === 503 && JSON.stringify(pipeline.body).includes('kafka connection');
    });
  });

  it('accepts a claim meanwhile and publishes it once the broker is reachable', async () => {
    const insurer = await system.as('insurer', tenant);
    const res = await fetch(system.url('claim-intake', '/v1/claims'), {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', ...insurer, ...newKey() },
      body: JSON.stringify(fhirClaim(`p-${uuidv4()}`, tenant, 'clinic-api')),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const db = system.app('claim-intake').get(DataSource);
    const published = async () =>
      (
        await db.query(`SELECT published_at FROM outbox WHERE topic = $1 AND message_key = $2`, [
          Topics.ClaimsSubmitted,
          id,
        ])
      )[0]?.published_at as Date | null | undefined;
    expect(await published()).toBeNull(); // stored, waiting in the outbox

    gate.listen(gatePort, '127.0.0.1');
    await waitFor('the pipeline to be up', async () => (await health('/health/pipeline')).status === 200, {
      timeoutMs: 60_000,
    });
    await waitFor('the claim to be published', async () => (await published()) instanceof Date, {
      timeoutMs: 30_000,
    });
  }, 90_000);
});
