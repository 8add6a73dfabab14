/**
 * Inclusion proofs for a run of consecutive leaves against one tree size, with ONE batched read of the distinct
 * nodes they need: what the checkpointer uses to put a proof in every `ledger.anchored.v1` it emits. Neighbouring
 * leaves share most of their paths, so the distinct nodes number about (to - from) + log2(size), not their sum.
 */
import { inclusionProofRefs, NodeRef } from './proof.planner';
import { assembleInclusionProof, PerfectSubtreeReader } from './proof.reader';

export async function inclusionProofsForRange(
  reader: PerfectSubtreeReader,
  from: number,
  to: number,
  size: number,
): Promise<Buffer[][]> {
  const plans: NodeRef[][][] = [];
  for (let index = from; index < to; index += 1) plans.push(inclusionProofRefs(index, size));
  const distinct = new Map<string, NodeRef>();
  for (const ref of plans.flat(2)) distinct.set(`${ref.level}/${ref.index}`, ref);
  const refs = [...distinct.values()];
  const hashes = refs.length ? await reader.getMany(refs) : [];
  const byKey = new Map(refs.map((r, i) => [`${r.level}/${r.index}`, hashes[i]]));
  return plans.map((plan) =>
    assembleInclusionProof(
      plan,
      plan.flat().map((r) => byKey.get(`${r.level}/${r.index}`)!),
    ),
  );
}
