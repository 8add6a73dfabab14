/**
 * Appending leaves in O(batch + log n). A tree of size n is summarised by its frontier: the perfect subtrees on its
 * right edge, one per set bit of n, largest first (the nodes `rootRefs(n)` names). Each new leaf is pushed onto the
 * frontier and merged with equal-level neighbours, which yields exactly the perfect subtrees the leaf completes,
 * so the sequencer stores every node once and never re-reads the tree.
 */
import { LedgerError } from './ledger.errors';
import { rootRefs } from './proof.planner';
import { foldRightEdge, HASH_SIZE, hashChildren } from './rfc9162.hasher';

export interface TreeNode {
  readonly level: number;
  readonly index: number;
  readonly hash: Buffer;
}

export interface AppendResult {
  /** Every perfect subtree completed by the batch, leaves included (level 0), in the order they completed. */
  readonly newNodes: TreeNode[];
  readonly frontier: Buffer[];
  readonly root: Buffer;
  readonly size: number;
}

export function appendLeaves(
  frontier: readonly Buffer[],
  startSize: number,
  leafHashes: readonly Buffer[],
): AppendResult {
  const edge = rootRefs(startSize);
  if (frontier.length !== edge.length) {
    throw new LedgerError(
      'LEDGER.FRONTIER_MISMATCH',
      `a tree of size ${startSize} has ${edge.length} frontier nodes, got ${frontier.length}`,
    );
  }
  const stack: TreeNode[] = edge.map((ref, i) => ({ ...ref, hash: checkHash(frontier[i], 'frontier hash') }));
  const newNodes: TreeNode[] = [];
  let size = startSize;
  for (const leafHash of leafHashes) {
    let node: TreeNode = { level: 0, index: size++, hash: checkHash(leafHash, 'leaf hash') };
    newNodes.push(node);
    while (stack.length > 0 && stack[stack.length - 1].level === node.level) {
      const left = stack.pop()!;
      node = { level: node.level + 1, index: left.index / 2, hash: hashChildren(left.hash, node.hash) };
      newNodes.push(node);
    }
    stack.push(node);
  }
  const newFrontier = stack.map((n) => n.hash);
  return { newNodes, frontier: newFrontier, root: foldRightEdge(newFrontier), size };
}

function checkHash(h: Buffer, what: string): Buffer {
  if (h.length !== HASH_SIZE) {
    throw new LedgerError('LEDGER.HASH_WRONG_SIZE', `${what} has ${h.length} bytes, expected ${HASH_SIZE}`);
  }
  return h;
}
