/**
 * Where signed checkpoints are published besides Kafka, so the log's history is held by someone other than its
 * database: a directory of checkpoint files today, a witness or a public chain later. A sink receives every
 * checkpoint once it has committed, in tree-size order, and may receive one again after a failure or a leader
 * change: publishing the same checkpoint twice must be harmless.
 */
export interface SignedCheckpoint {
  readonly origin: string;
  readonly treeSize: number;
  readonly rootHash: Buffer;
  /** The C2SP signed note, exactly as served at /v1/ledger/checkpoint. */
  readonly note: string;
}

export interface AnchorSink {
  /** Stable across restarts: delivery progress is stored under it. */
  readonly name: string;
  publish(checkpoint: SignedCheckpoint): Promise<void>;
}

export const ANCHOR_SINKS = Symbol('ANCHOR_SINKS');
