import { createHash } from 'node:crypto';
import { Client } from 'pg';

/** Distinct statements one connection keeps prepared at most; any further one runs unnamed, as before. */
export const MAX_PREPARED_PER_CONNECTION = 500;

/**
 * A pg Client that prepares every parameterised statement once per connection and then only binds and executes it
 * (Postgres' extended protocol with a named statement). Our hot statements are fixed texts run thousands of times a
 * second; unnamed, Postgres parses, analyses and plans each anew, which measured as half of a backend's CPU on a
 * short transaction (docs/performance.md). Postgres then chooses between custom and generic plans as it does for
 * any prepared statement (plan_cache_mode), which is what JDBC drivers do by default.
 *
 * Statements without parameters (BEGIN, COMMIT, DDL, several statements in one string) and anything that is not a
 * plain text query (a COPY stream, a query config) pass through unchanged. The name is a hash of the text, so the
 * same text gets the same name on every connection.
 */
export class PreparedStatementClient extends Client {
  private readonly names = new Map<string, string>();

  override query(...args: unknown[]): never {
    const [text, values, ...rest] = args;
    const name = typeof text === 'string' && Array.isArray(values) && values.length > 0 ? this.nameOf(text) : undefined;
    const query = super.query as (...a: unknown[]) => never;
    return name ? query.call(this, { name, text, values }, ...rest) : query.apply(this, args);
  }

  private nameOf(text: string): string | undefined {
    const known = this.names.get(text);
    if (known || this.names.size >= MAX_PREPARED_PER_CONNECTION) return known;
    const name = `cc_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    this.names.set(text, name);
    return name;
  }
}
