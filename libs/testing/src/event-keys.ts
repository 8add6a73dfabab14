import { loadServiceConfig, ServiceName } from '@claimchain/config';
import { CloudEvent, ownerOf, TopicName } from '@claimchain/wire';
import {
  EventAuthenticator,
  eventAuthenticatorOf,
  EventSigner,
  eventSignerOf,
  OutboxWriter,
} from '@claimchain/messaging';

/**
 * The run's event keys (made by the global setup, ADR 18), for specs that build messaging's parts by hand or
 * produce events straight to Kafka as a service would.
 */
const signers = new Map<ServiceName, EventSigner>();

export function testEventSigner(service: ServiceName): EventSigner {
  let signer = signers.get(service);
  if (!signer) signers.set(service, (signer = eventSignerOf(service, loadServiceConfig(service).events)));
  return signer;
}

export function testEventAuthenticator(): EventAuthenticator {
  return eventAuthenticatorOf(loadServiceConfig('payout').events);
}

export function testOutboxWriter(service: ServiceName): OutboxWriter {
  return new OutboxWriter(testEventSigner(service));
}

/** The event signed by its topic's owner, as that service's outbox would have it: what a consumer accepts. */
export function signedByOwner<T extends CloudEvent>(topic: TopicName, event: T): T {
  return testEventSigner(ownerOf(topic)).sign(event);
}

/** The JSON of `event` signed by its topic's owner: a message value to produce. */
export function ownerSigned(topic: TopicName, event: CloudEvent): string {
  return JSON.stringify(signedByOwner(topic, event));
}
