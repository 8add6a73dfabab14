import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { HttpLedgerProofSource, LedgerUnreachableError } from './ledger-proof.source';

const HASH = Buffer.alloc(32, 7).toString('base64');

describe(HttpLedgerProofSource.name, () => {
  let server: Server;
  let base: string;
  let answer: { status: number; body: unknown };
  const asked: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      asked.push(req.url!);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("asks the ledger's public API for the proof and returns its hashes", async () => {
    answer = { status: 200, body: { from: 3, to: 7, hashes: [HASH, HASH] } };
    await expect(new HttpLedgerProofSource(base).consistencyProof(3, 7)).resolves.toEqual([HASH, HASH]);
    expect(asked.at(-1)).toBe('/v1/ledger/proofs/consistency?from=3&to=7');
  });

  it.each([
    ['an error status', { status: 503, body: { title: 'unavailable' } }],
    ['a proof for other sizes', { status: 200, body: { from: 3, to: 8, hashes: [HASH] } }],
    ['a hash that is not 32 bytes of base64', { status: 200, body: { from: 3, to: 7, hashes: ['AAAA'] } }],
    ['no hashes at all', { status: 200, body: { from: 3, to: 7 } }],
  ])('refuses %s as unreachable, never as a proof', async (_, a) => {
    answer = a;
    await expect(new HttpLedgerProofSource(base).consistencyProof(3, 7)).rejects.toBeInstanceOf(LedgerUnreachableError);
  });

  it('reports a ledger nobody answers for as unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(new HttpLedgerProofSource(`http://127.0.0.1:${port}`).consistencyProof(1, 2)).rejects.toThrow(
      /unreachable/,
    );
  });
});
