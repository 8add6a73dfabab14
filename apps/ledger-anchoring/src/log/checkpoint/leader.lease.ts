import { Logger } from '@nestjs/common';
import { Client } from 'pg';

/**
 * Leadership held as a session-level Postgres advisory lock on a connection of its own. Postgres releases the lock
 * when that session ends, so when the leader's process dies, or its connection does, a standby's next
 * `tryAcquire` wins. The connection also LISTENs on the given channels, so the leader hears every replica's
 * appends.
 *
 * Leadership is an efficiency, not the safety net: work done "as leader" must still be correct if two replicas
 * briefly both believe they lead (the checkpointer takes a transaction lock of its own for that).
 */
export class LeaderLease {
  private readonly logger = new Logger(LeaderLease.name);
  private client?: Client;
  private leader = false;

  constructor(
    private readonly connectionString: string,
    private readonly lockId: number,
    private readonly channels: readonly string[] = [],
    private readonly onNotification: (channel: string, payload: string | undefined) => void = () => undefined,
  ) {}

  get isLeader(): boolean {
    return this.leader;
  }

  /** The backend pid of the lease's connection; tests terminate it to simulate a dead leader. */
  async backendPid(): Promise<number | undefined> {
    const rows = await this.client?.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`);
    return rows?.rows[0]?.pid;
  }

  /** Becomes leader if nobody is; true while this lease leads. Throws when the database is unreachable. */
  async tryAcquire(): Promise<boolean> {
    if (this.leader) return true;
    const client = await this.connection();
    const { rows } = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock($1) AS locked`, [
      this.lockId,
    ]);
    // The connection may have died while we asked; only a live one holds the lock.
    if (rows[0].locked && this.client === client) {
      this.leader = true;
      this.logger.log('became checkpoint leader');
    }
    return this.leader;
  }

  /** Gives up leadership by ending the session, which releases the lock. */
  async release(): Promise<void> {
    const client = this.client;
    this.dropConnection();
    await client?.end().catch(() => undefined);
  }

  private async connection(): Promise<Client> {
    if (this.client) return this.client;
    const client = new Client({
      connectionString: this.connectionString,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    // Without an 'error' listener a terminated connection would crash the process.
    client.on('error', (error) => {
      if (this.client === client) this.logger.warn(`leader connection failed: ${error.message}`);
      this.lost(client);
    });
    client.on('end', () => this.lost(client));
    client.on('notification', (n) => this.onNotification(n.channel, n.payload));
    try {
      await client.connect();
      // A leader whose machine vanishes sends no FIN: have Postgres probe the session so it ends it, and frees the
      // lock for a standby, within about 25 s instead of the OS default of hours.
      await client.query(`SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3`);
      for (const channel of this.channels) await client.query(`LISTEN "${channel}"`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.client = client;
    return client;
  }

  private lost(client: Client): void {
    if (this.client !== client) return;
    if (this.leader) this.logger.warn('lost checkpoint leadership: its database session ended');
    this.dropConnection();
  }

  private dropConnection(): void {
    this.client = undefined;
    this.leader = false;
  }
}
