/**
 * The services' event signing keys for local runs (ADR 18): one note key per service, named after it, created once
 * (mode 0600) in `dir` and kept, so events signed in one run still verify in the next. The launcher and the test
 * global setup hand each service its own key file and every service all the verifier keys.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { envPrefixOf, SERVICE_NAMES, ServiceName } from '@claimchain/config';
import { parseSignerKey } from '@claimchain/ledger';
import { EventAuthenticator, eventAuthenticatorOf, EventSigner, eventSignerOf } from '@claimchain/messaging';
import { ensureSigningKey } from './signing-key';

export interface EventKeyFiles {
  /** Each service's signing key file (secret: only that service is told where it is). */
  files: Record<ServiceName, string>;
  /** Every service's verifier key, comma-separated: EVENT_VERIFIER_KEYS. */
  verifierKeys: string;
  /** Names of the services whose key was created now. */
  created: ServiceName[];
}

export function ensureEventKeys(dir: string): EventKeyFiles {
  const files = {} as Record<ServiceName, string>;
  const created: ServiceName[] = [];
  for (const service of SERVICE_NAMES) {
    files[service] = join(dir, `${service}.key`);
    if (ensureSigningKey(files[service], service)) created.push(service);
  }
  const verifierKeys = SERVICE_NAMES.map((s) => parseSignerKey(readFileSync(files[s], 'utf8').trim()).verifierKey).join(
    ',',
  );
  return { files, verifierKeys, created };
}

/** `<SERVICE>_EVENT_SIGNING_KEY_FILE` for every service: one environment for processes running all four (tests). */
export function eventKeyEnvironment(keys: EventKeyFiles): Record<string, string> {
  return {
    ...Object.fromEntries(SERVICE_NAMES.map((s) => [`${envPrefixOf(s)}_EVENT_SIGNING_KEY_FILE`, keys.files[s]])),
    EVENT_VERIFIER_KEYS: keys.verifierKeys,
  };
}

/** A service's signer and the authenticator of every producer's events, from local key files (benches). */
export function localEventSigning(
  keys: EventKeyFiles,
  service: ServiceName,
): { signer: EventSigner; authenticator: EventAuthenticator } {
  const verifierKeys = keys.verifierKeys.split(',');
  return {
    signer: eventSignerOf(service, { signingKeyFile: keys.files[service], verifierKeys }),
    authenticator: eventAuthenticatorOf({ verifierKeys }),
  };
}
