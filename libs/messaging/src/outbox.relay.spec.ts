import { KafkaJSNonRetriableError, KafkaJSProtocolError } from 'kafkajs';
import { isProducerStateError } from './outbox.relay';

/** The relay renews its producer on these answers; kafkajs hands them over wrapped, as built here. */
describe(isProducerStateError.name, () => {
  // As kafkajs builds them at run time (its typings declare narrower constructors).
  const protocolError = (type: string, code: number) =>
    new KafkaJSProtocolError({ type, code, retriable: false, message: `broker said ${type}` } as unknown as Error);
  const NonRetriable = KafkaJSNonRetriableError as unknown as new (
    e: Error,
    o: { cause: unknown },
  ) => Error & {
    cause: unknown;
  };

  it('finds an out-of-order sequence inside the non-retriable error kafkajs rejects a send with', () => {
    const original = protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER', 45);
    const wrapped = new NonRetriable(original, { cause: original });
    expect(isProducerStateError(new NonRetriable(wrapped, { cause: wrapped.cause }))).toBe(true);
    expect(isProducerStateError(original)).toBe(true);
  });

  it('leaves every other failure to the ordinary retry', () => {
    const other = protocolError('NOT_LEADER_FOR_PARTITION', 6);
    expect(isProducerStateError(new NonRetriable(other, { cause: other }))).toBe(false);
    expect(isProducerStateError(new Error('fetch failed'))).toBe(false);
    expect(isProducerStateError(undefined)).toBe(false);
  });
});
