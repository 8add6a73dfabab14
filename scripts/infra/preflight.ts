/**
 * Checks that the tools a locally started Kafka broker needs (Java ≥ 17 to run it, Maven to fetch it) are present,
 * so a missing one is reported as one clear sentence instead of a spawn ENOENT half-way through start-up.
 */
import { spawnSync } from 'node:child_process';

const MIN_JAVA = 17;
const INSTALL_HINT =
  'Install them (Debian/Ubuntu: `apt-get install openjdk-17-jre-headless maven`), ' +
  'or set KAFKA_BROKERS=host:port to use an existing Kafka cluster instead of starting one.';

/** `java -version` prints e.g. `openjdk version "17.0.15"` or `java version "1.8.0_392"` on stderr. */
export function parseJavaMajor(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] ? Number(match[2]) : first;
}

function run(command: string, args: string[]): { ok: boolean; output: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  return { ok: !result.error && result.status === 0, output };
}

/** Throws, naming what to install, unless `java` (≥ 17) and `mvn` both run. */
export function checkBrokerPrerequisites(): void {
  const problems: string[] = [];
  const java = run('java', ['-version']);
  const major = java.ok ? parseJavaMajor(java.output) : undefined;
  if (!java.ok) problems.push('`java` is not runnable (Java 17 or newer is needed to run the local Kafka broker)');
  else if (major === undefined || major < MIN_JAVA)
    problems.push(`\`java\` is version ${major ?? 'unknown'}; the local Kafka broker needs Java ${MIN_JAVA} or newer`);
  if (!run('mvn', ['-v']).ok)
    problems.push('`mvn` is not runnable (Maven fetches the Kafka broker from Maven Central)');
  if (problems.length > 0)
    throw new Error(`Cannot start a local Kafka broker: ${problems.join('; ')}. ${INSTALL_HINT}`);
}
