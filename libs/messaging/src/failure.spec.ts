import { classifyFailure, PermanentEventError, TransientEventError } from './failure';

/** A pg error as the driver raises it (a DatabaseError with its SQLSTATE), wrapped as TypeORM wraps it. */
function queryFailed(code: string, message = `failed with ${code}`): Error {
  const driverError = Object.assign(new Error(message), { code });
  return Object.assign(new Error(message), { name: 'QueryFailedError', driverError, code });
}

describe(classifyFailure.name, () => {
  it.each([
    [
      'a connection refused by Postgres',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    ],
    ['Postgres shutting down (57P01)', queryFailed('57P01', 'terminating connection due to administrator command')],
    ['Postgres starting up (57P03)', queryFailed('57P03', 'the database system is starting up')],
    ['a deadlock (40P01)', queryFailed('40P01', 'deadlock detected')],
    ['a serialization failure (40001)', queryFailed('40001')],
    ['a statement timeout (57014)', queryFailed('57014', 'canceling statement due to statement timeout')],
    ['a connection exception (08006)', queryFailed('08006')],
    ['a lost connection without a code', new Error('Connection terminated unexpectedly')],
    ['a pool that could not connect in time', new Error('timeout exceeded when trying to connect')],
    [
      'a fetch to a service that is down',
      new TypeError('fetch failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) }),
    ],
    [
      'a retriable KafkaJS error',
      Object.assign(new Error('The coordinator is not available'), { name: 'KafkaJSProtocolError', retriable: true }),
    ],
    ['a TransientEventError', new TransientEventError('ledger unreachable')],
    ['a TransientEventError subclass', new (class LedgerDown extends TransientEventError {})('down')],
  ])('calls %s transient', (_what, error) => {
    expect(classifyFailure(error)).toBe('transient');
  });

  it.each([
    ['a PermanentEventError', new PermanentEventError('contract does not hash to its id')],
    ['a value Postgres cannot store (22P05)', queryFailed('22P05', 'unsupported Unicode escape sequence')],
    ['a numeric overflow (22003)', queryFailed('22003')],
    ['a broken constraint (23505)', queryFailed('23505', 'duplicate key value violates unique constraint')],
    [
      'a permanent error wrapped around a transient one',
      new PermanentEventError('refused', { cause: new TransientEventError('x') }),
    ],
  ])('calls %s permanent', (_what, error) => {
    expect(classifyFailure(error)).toBe('permanent');
  });

  it.each([
    ['a plain Error', new Error('no contract in force for insurer acme')],
    ['a TypeError from a bug', new TypeError("Cannot read properties of undefined (reading 'items')")],
    ['a syntax error in SQL (42601)', queryFailed('42601', 'syntax error at or near "SELEC"')],
    [
      'a non-retriable KafkaJS error',
      Object.assign(new Error('bad'), { name: 'KafkaJSNonRetriableError', retriable: false }),
    ],
    ['something that is not an Error', 'a string'],
    ['nothing', undefined],
  ])('leaves %s unclassified', (_what, error) => {
    expect(classifyFailure(error)).toBe('unclassified');
  });
});
