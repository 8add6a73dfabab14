import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';

/**
 * BENCH_OTEL_SINK=1: a loopback OTLP/HTTP receiver that reads each export, counts it and answers 200, so the bench
 * can measure tracing on (ADR 20) with the real exporter and batch processor but no collector to keep up with. The
 * services get `OTEL_TRACES_EXPORTER=otlp` and this endpoint; the sampler is the caller's `OTEL_TRACES_SAMPLER`
 * (and `_ARG`), passed through like the rest of the bench's environment.
 */
export interface OtlpSink {
  env: Record<string, string>;
  /** Export requests and bytes received so far. */
  received(): { requests: number; bytes: number };
  close(): void;
}

export async function startOtlpSink(): Promise<OtlpSink> {
  let requests = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      requests += 1;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    env: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` },
    received: () => ({ requests, bytes }),
    close: () => server.close(),
  };
}
