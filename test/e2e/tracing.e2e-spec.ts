import { randomBytes } from 'node:crypto';
import { Consumer } from 'kafkajs';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { v4 as uuidv4 } from 'uuid';
import { CloudEvent, Topics } from '@claimchain/wire';
import { KafkaEventTransport } from '@claimchain/messaging';
import { installTracing } from '@claimchain/observability';
import { waitFor } from '@claimchain/testing';
import { fhirClaim, fhirClaimTreatments, newKey, RunningSystem, startSystem } from './system';

/**
 * Tracing (ADR 20) on the real broker: the four services in this process share one tracer provider whose spans go
 * to an in-memory exporter, and one claim's spans are followed from the insurer's POST to its payout.
 */
describe('one claim traced across the four services', () => {
  const exporter = new InMemorySpanExporter();
  let uninstall: () => Promise<void>;
  let system: RunningSystem;

  beforeAll(async () => {
    uninstall = installTracing([new SimpleSpanProcessor(exporter)]);
    system = await startSystem();
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
    await uninstall?.();
  });

  const attr = (span: ReadableSpan, name: string) => span.attributes[name];
  const traceOf = (span: ReadableSpan) => span.spanContext().traceId;

  it('continues the caller’s trace from POST /v1/claims through the outbox, Kafka and every consumer to the payout', async () => {
    const insurer = await system.as('insurer', 'insurer-e2e');
    const provider = await system.as('provider', 'clinic-e2e');
    // The provider confirms before treatment-verification has the claim (its consumer of claims.submitted paused),
    // so the verification is decided by that consumer, caused by the claim's event: the whole chain is the claim's.
    const tvConsumer = system.app('treatment-verification').get(KafkaEventTransport).unwrap<Consumer>();
    tvConsumer.pause([{ topic: Topics.ClaimsSubmitted }]);
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const submitted = await fetch(system.url('claim-intake', '/v1/claims'), {
      method: 'POST',
      headers: {
        'content-type': 'application/fhir+json',
        traceparent: `00-${traceId}-${callerSpanId}-01`,
        ...insurer,
        ...newKey(),
      },
      body: JSON.stringify(fhirClaim(`p-${uuidv4()}`)),
    });
    expect(submitted.status).toBe(202);
    const { id } = (await submitted.json()) as { id: string };
    const confirmed = await fetch(system.url('treatment-verification', '/v1/confirmations'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...provider, ...newKey() },
      body: JSON.stringify({ claimId: id, performed: fhirClaimTreatments() }),
    });
    expect(confirmed.status).toBe(202); // pending: the claim has not reached treatment-verification
    tvConsumer.resume([{ topic: Topics.ClaimsSubmitted }]);

    // Every event of the chain, as consumed by each service that reads it (group names end with the service). The
    // ledger's `ledger.anchored.v2` notice is not in it: one notice covers a whole checkpoint, many claims, so it
    // belongs to no one claim's trace (ADR 23).
    const expected = [
      [Topics.ClaimsSubmitted, 'treatment-verification'],
      [Topics.ClaimsSubmitted, 'ledger-anchoring'],
      [Topics.ClaimsSubmitted, 'payout'],
      [Topics.TreatmentsVerified, 'ledger-anchoring'],
      [Topics.TreatmentsVerified, 'payout'],
      [Topics.TreatmentsVerified, 'claim-intake'],
      [Topics.ClaimsAdjudicated, 'ledger-anchoring'],
      [Topics.ClaimsAdjudicated, 'claim-intake'],
      [Topics.PayoutsReleased, 'ledger-anchoring'],
      [Topics.PayoutsReleased, 'claim-intake'],
      [Topics.PayoutsSettled, 'ledger-anchoring'],
      [Topics.PayoutsSettled, 'claim-intake'],
    ] as const;
    // A consumer span covers a batch (ADR 20): it links to each event's context, the link naming the event.
    const claimLinks = (span: ReadableSpan, topic?: string) =>
      span.links.filter(
        (l) =>
          l.attributes?.['cloudevents.event_subject'] === id &&
          (topic === undefined || l.attributes?.['messaging.destination.name'] === topic),
      );
    const consumed = (spans: ReadableSpan[], topic: string, service: string) =>
      spans.filter(
        (s) =>
          s.kind === SpanKind.CONSUMER &&
          String(attr(s, 'messaging.consumer.group.name')).endsWith(service) &&
          claimLinks(s, topic).length > 0,
      );
    const missing = (finished: ReadableSpan[]) =>
      expected.filter(([topic, service]) => consumed(finished, topic, service).length === 0);
    const spans = await waitFor(
      'every service to have consumed the claim’s events up to its settlement',
      () => {
        const finished = exporter.getFinishedSpans();
        return missing(finished).length === 0 ? finished : undefined;
      },
      { timeoutMs: 60_000 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; not consumed: ${JSON.stringify(missing(exporter.getFinishedSpans()))}`);
    });

    // The insurer's POST is a server span continuing the caller's trace.
    const server = spans.find((s) => s.kind === SpanKind.SERVER && attr(s, 'http.route') === '/v1/claims');
    expect(server).toBeDefined();
    expect(traceOf(server!)).toBe(traceId);
    expect(server!.parentSpanContext?.spanId).toBe(callerSpanId);
    // Every event of the claim, in every service, arrived in that one trace (its Kafka traceparent header), naming
    // the recorded span that made it: the POST's server span or a consumer span of the claim's trace, never a root.
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const consumers = spans.filter((s) => s.kind === SpanKind.CONSUMER && claimLinks(s).length > 0);
    const links = consumers.flatMap((s) => claimLinks(s));
    expect(links.filter((l) => l.context.traceId !== traceId)).toEqual([]);
    for (const link of links) {
      const maker = byId.get(link.context.spanId);
      const made = maker && [SpanKind.SERVER, SpanKind.CONSUMER].includes(maker.kind) ? traceOf(maker) : undefined;
      expect({ link: link.attributes, made }).toEqual({ link: link.attributes, made: traceId });
    }
    for (const [topic, service] of expected) {
      expect(
        consumed(spans, topic, service).flatMap((s) => claimLinks(s, topic).map((l) => l.context.traceId)),
      ).toContain(traceId);
    }
    // A consumer batch holding only this claim's events is a child span in its trace; the outbox relay's publish
    // spans link to the rows they sent.
    expect(consumers.filter((s) => traceOf(s) === traceId).length).toBeGreaterThan(0);
    const published = spans.filter(
      (s) => s.kind === SpanKind.PRODUCER && s.links.some((l) => l.attributes?.['messaging.kafka.message.key'] === id),
    );
    expect(published.length).toBeGreaterThan(0);
  });

  it('carries correlationid and causationid forward: each event names its cause and inherits the claim’s correlation', async () => {
    const insurer = await system.as('insurer', 'insurer-e2e');
    const clinic = `clinic-${uuidv4()}`;
    const provider = await system.as('provider', clinic);
    const requestId = `req-${uuidv4()}`;
    const submitted = await fetch(system.url('claim-intake', '/v1/claims'), {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', 'x-request-id': requestId, ...insurer, ...newKey() },
      body: JSON.stringify(fhirClaim(`p-${uuidv4()}`, 'insurer-e2e', clinic)),
    });
    const { id } = (await submitted.json()) as { id: string };
    // This time the claim is there first: the provider's request decides it (treatment-verification kept the
    // claim's correlation for it).
    await waitFor('the claim to reach treatment-verification', async () => {
      const res = await fetch(system.url('treatment-verification', '/v1/worklist'), { headers: provider });
      const { items } = (await res.json()) as { items: { claimId: string }[] };
      return items.some((i) => i.claimId === id) || undefined;
    });
    const confirmationRequest = `req-${uuidv4()}`;
    const confirmed = await fetch(system.url('treatment-verification', '/v1/confirmations'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': confirmationRequest, ...provider, ...newKey() },
      body: JSON.stringify({ claimId: id, performed: fhirClaimTreatments() }),
    });
    expect(confirmed.status).toBe(201);
    type Entry = { eventId: string; type: string; event: CloudEvent | null };
    const timeline = await waitFor(
      'the claim to be paid',
      async () => {
        const body = (await (
          await fetch(system.url('claim-intake', `/v1/claims/${id}`), { headers: insurer })
        ).json()) as { status: string; timeline: Entry[] };
        const types = body.timeline.map((e) => e.type);
        return body.status === 'paid' && types.includes('payout.settled') && body.timeline.every((e) => e.event)
          ? body.timeline
          : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const byType = new Map(timeline.map((e) => [e.type, e.event!]));
    const submittedEvent = byType.get('claim.submitted')!;
    expect(submittedEvent.causationid).toBe(requestId);
    const correlation = submittedEvent.correlationid;
    expect(timeline.map((e) => [e.type, e.event!.correlationid])).toEqual(timeline.map((e) => [e.type, correlation]));
    const verified = byType.get('treatment.verified')!;
    expect(verified.causationid).toBe(confirmationRequest);
    expect(byType.get('claim.adjudicated')!.causationid).toBe(verified.id);
    expect(byType.get('payout.released')!.causationid).toBe(byType.get('claim.adjudicated')!.id);
    expect(byType.get('payout.settled')!.causationid).toBe(byType.get('payout.released')!.id);
  });
});
