/**
 * Runs a built service main in N processes sharing one port (node:cluster: the primary accepts connections and
 * hands them round-robin to the workers), as N replicas behind a Service would: `node cluster.main.js <n> <main.js>`.
 * SIGTERM/SIGINT stop the workers (each closes cleanly) and then the primary.
 */
import cluster from 'node:cluster';
import { resolve } from 'node:path';

const [count, main] = process.argv.slice(2);
if (cluster.isPrimary) {
  cluster.setupPrimary({ exec: resolve(main), args: [] });
  for (let i = 0; i < Number(count); i++) cluster.fork();
  let stopping = false;
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop).on('SIGINT', stop);
  cluster.on('exit', (worker, code) => {
    if (!stopping) console.error(`worker ${worker.process.pid} exited (${code}) before shutdown`);
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(stopping ? 0 : 1);
  });
}
