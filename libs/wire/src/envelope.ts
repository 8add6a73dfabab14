import { z } from 'zod';
import { v7 as uuidv7 } from 'uuid';

/**
 * CloudEvents 1.0 envelope in structured JSON mode, with our extension attributes. `subject` is the aggregate id
 * (the claim id for claim events) and doubles as the Kafka key.
 */
export const CloudEventEnvelope = z.object({
  specversion: z.literal('1.0'),
  id: z.string().uuid(),
  source: z.string().min(1),
  type: z.string().min(1),
  subject: z.string().min(1),
  time: z.string().datetime({ offset: true }),
  datacontenttype: z.literal('application/json'),
  dataschema: z.string().min(1),
  correlationid: z.string().min(1),
  causationid: z.string().min(1).optional(),
  tenantid: z.string().min(1).optional(),
  /** The producer's signature over the rest of the envelope (ADR 18), kept so a stored event can be checked again. */
  signature: z.string().min(1).optional(),
  data: z.unknown(),
});

export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  dataschema: string;
  correlationid: string;
  causationid?: string;
  tenantid?: string;
  /** `<service>+<key id>+<base64 Ed25519>`: set by the producing service's outbox, checked by every consumer. */
  signature?: string;
  data: T;
}

export function newEventId(): string {
  return uuidv7();
}
