import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { cctvInvalidConsistency, cctvValidConsistency, ConsistencyVector } from '../../../libs/ledger/test/vectors';
import { whyInconsistent } from './consistency.check';
import { LedgerHttpClient } from './ledger-http.client';

/**
 * The C2SP CCTV consistency vectors through the verifier's own path: the proof is fetched over HTTP from a log that
 * serves exactly the vector's path, decoded from base64 and checked, as `claimchain-verify consistency` does.
 */
describe(whyInconsistent.name, () => {
  let served: ConsistencyVector;
  let server: Server;
  let client: LedgerHttpClient;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://log');
      if (url.pathname !== '/v1/ledger/proofs/consistency') return res.writeHead(404).end();
      const from = Number(url.searchParams.get('from'));
      const to = Number(url.searchParams.get('to'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ from, to, hashes: served.proof.map((h) => h.toString('base64')) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new LedgerHttpClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const check = (v: ConsistencyVector) => {
    served = v;
    return whyInconsistent(client, { size: v.size1, root: v.root1 }, { size: v.size2, root: v.root2 });
  };

  it.each(cctvValidConsistency)('finds $file ($size1 → $size2) consistent', async (v) => {
    expect(await check(v)).toBeUndefined();
  });

  it.each(cctvInvalidConsistency)('says why $file ($size1 → $size2, $desc) is not consistent', async (v) => {
    expect(await check(v)).toEqual(expect.any(String));
  });
});
