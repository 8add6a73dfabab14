/** Jest globalTeardown: stops the test broker if globalSetup started it (a reused or external one is left alone). */
import type { KafkaBrokerHandle } from '../scripts/infra/kafka-broker';

export default async function globalTeardown(): Promise<void> {
  const broker: KafkaBrokerHandle | undefined = globalThis.__claimchainTestBroker;
  globalThis.__claimchainTestBroker = undefined;
  await broker?.stop();
}
