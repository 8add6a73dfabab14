import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { SIGNATURE_HEADER, signWebhook, verifyWebhook, WebhookRail } from './webhook.rail';

const SECRET = 'whsec-test';
const instruction = {
  payoutId: '018f0000-0000-7000-8000-000000000001',
  claimId: '018f0000-0000-7000-8000-000000000002',
  insurerId: 'insurer-1',
  payeeId: 'clinic-1',
  amount: '96.00',
  currency: 'EUR',
};

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

describe(WebhookRail.name, () => {
  let server: Server;
  let url: string;
  let answers: number[];
  let received: Received[];

  beforeEach(async () => {
    answers = [];
    received = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.statusCode = answers.shift() ?? 204;
        if (res.statusCode >= 300 && res.statusCode < 400) res.setHeader('location', '/elsewhere');
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/payouts`;
  });

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('posts the instruction signed with the shared secret and reports it settled once accepted', async () => {
    const rail = new WebhookRail({ url, secret: SECRET, allowLoopback: true });
    const result = await rail.submit(instruction);
    expect(received).toHaveLength(1);
    const [{ headers, body }] = received;
    expect(JSON.parse(body)).toEqual({ type: 'payout.instruction', ...instruction });
    expect(headers['idempotency-key']).toBe(instruction.payoutId);
    expect(verifyWebhook(SECRET, body, String(headers[SIGNATURE_HEADER]), new Date())).toBe(true);
    expect(verifyWebhook('another-secret', body, String(headers[SIGNATURE_HEADER]), new Date())).toBe(false);
    expect(verifyWebhook(SECRET, body.replace('96.00', '960.00'), String(headers[SIGNATURE_HEADER]), new Date())).toBe(
      false,
    );
    expect(result).toEqual({ reference: `webhook-${instruction.payoutId}`, settledAt: expect.any(Date) });
  });

  it('throws on a non-2xx answer so the dispatcher retries', async () => {
    answers = [503];
    const rail = new WebhookRail({ url, secret: SECRET, allowLoopback: true });
    await expect(rail.submit(instruction)).rejects.toThrow('webhook answered 503');
  });

  it('does not follow a redirect: the payout is refused, not posted elsewhere', async () => {
    answers = [307];
    const rail = new WebhookRail({ url, secret: SECRET, allowLoopback: true });
    await expect(rail.submit(instruction)).rejects.toThrow('webhook answered 307');
    expect(received).toHaveLength(1);
  });
});

describe(`${WebhookRail.name} to internal addresses`, () => {
  let server: Server;
  let port: number;
  let received: number;

  beforeEach(async () => {
    received = 0;
    server = createServer((_req, res) => {
      received += 1;
      res.statusCode = 204;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('refuses a literal loopback address unless loopback is allowed, sending nothing', async () => {
    const rail = new WebhookRail({ url: `http://127.0.0.1:${port}/payouts`, secret: SECRET });
    await expect(rail.submit(instruction)).rejects.toThrow('webhook address 127.0.0.1 is a loopback address: not sent');
    expect(received).toBe(0);
  });

  it('resolves a hostname at delivery and refuses it when it leads to a loopback address', async () => {
    // `localhost` resolves (through the system resolver) to a loopback address, as a hostile DNS name could.
    const rail = new WebhookRail({ url: `http://localhost:${port}/payouts`, secret: SECRET });
    await expect(rail.submit(instruction)).rejects.toThrow(
      /^webhook host localhost resolves to (127\.0\.0\.1|::1), a loopback address: not sent$/,
    );
    expect(received).toBe(0);
    // Allowed, the same name is delivered to (through the address that was checked).
    const allowed = new WebhookRail({ url: `http://localhost:${port}/payouts`, secret: SECRET, allowLoopback: true });
    await expect(allowed.submit(instruction)).resolves.toMatchObject({ reference: `webhook-${instruction.payoutId}` });
    expect(received).toBe(1);
  });

  it('refuses private and metadata addresses even where loopback is allowed', async () => {
    const metadata = new WebhookRail({
      url: 'http://169.254.169.254/latest/meta-data',
      secret: SECRET,
      allowLoopback: true,
    });
    await expect(metadata.submit(instruction)).rejects.toThrow(
      'webhook address 169.254.169.254 is a private, link-local or reserved address: not sent',
    );
    const mapped = new WebhookRail({ url: 'https://[::ffff:10.0.0.1]/hook', secret: SECRET, allowLoopback: true });
    await expect(mapped.submit(instruction)).rejects.toThrow('is a private, link-local or reserved address');
  });
});

describe(verifyWebhook.name, () => {
  it('refuses a signature older than the tolerance (a replayed delivery)', () => {
    const at = new Date('2026-11-24T12:00:00Z');
    const header = signWebhook(SECRET, '{}', at);
    expect(verifyWebhook(SECRET, '{}', header, new Date('2026-11-24T12:04:59Z'))).toBe(true);
    expect(verifyWebhook(SECRET, '{}', header, new Date('2026-11-24T12:05:01Z'))).toBe(false);
    expect(verifyWebhook(SECRET, '{}', 'garbage', at)).toBe(false);
  });
});
