/**
 * @claimchain/ledger: the tamper-evident log's pure core. RFC 9162 hashing, proofs planned against a store of
 * perfect-subtree hashes and verified as the RFC spells it, batch appends, the event-to-leaf commitment, and C2SP
 * signed checkpoints. No Nest, no TypeORM, no I/O: the ledger service supplies the store and the keys.
 */
export * from './ledger.errors';
export { HASH_SIZE, hashLeaf, hashChildren, emptyRoot } from './rfc9162.hasher';
export * from './proof.planner';
export * from './proof.reader';
export * from './compact-range.appender';
export * from './proof.verifier';
export * from './event-leaf.commitment';
export * from './signed-note.codec';
export * from './checkpoint.codec';
export * from './log.auditor';
export * from './batch-proofs.reader';
