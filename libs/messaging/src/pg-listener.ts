import { DataSource } from 'typeorm';
import { Pool, PoolClient } from 'pg';

/**
 * A connection of its own, taken from the data source's pool, that LISTENs on `channel`: `onNotify` runs for each
 * NOTIFY, `onLost` once if the connection fails or ends (the caller drops it and opens another when it next needs
 * one). Release it with `release(true)`: a listening connection must never go back to the pool.
 */
export async function listenOn(
  dataSource: DataSource,
  channel: string,
  handlers: { onNotify: () => void; onLost: (client: PoolClient, why: string) => void },
): Promise<PoolClient> {
  const pool = (dataSource.driver as unknown as { master: Pool }).master;
  const client = await pool.connect();
  client.on('notification', handlers.onNotify);
  client.on('error', (error) => handlers.onLost(client, String(error)));
  client.on('end', () => handlers.onLost(client, 'connection ended'));
  try {
    await client.query(`LISTEN ${channel}`);
  } catch (error) {
    client.release(true);
    throw error;
  }
  return client;
}
