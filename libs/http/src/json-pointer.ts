/** RFC 6901 JSON pointers, which name the offending element of a request in every problem's `errors`. */

/** `['item', 0, 'a/b']` → `/item/0/a~1b`. */
export function jsonPointer(path: readonly (string | number)[]): string {
  return path.map((token) => '/' + String(token).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/**
 * The pointer to the first member or element of a parsed JSON value, in document order, for which `found` holds
 * (a member is tested by its key and its value; the root has no key and depth 0). Iterative: a body of a megabyte
 * can nest far deeper than the call stack goes.
 */
export function findInJson(
  root: unknown,
  found: (value: unknown, key: string | undefined, depth: number) => boolean,
): string | undefined {
  const path: string[] = [];
  const stack: { value: unknown; depth: number; key?: string }[] = [{ value: root, depth: 0 }];
  while (stack.length) {
    const { value, depth, key } = stack.pop()!;
    path.length = Math.max(depth - 1, 0);
    if (key !== undefined) path.push(key);
    if (found(value, key, depth)) return jsonPointer(path);
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i -= 1) stack.push({ value: value[i], depth: depth + 1, key: String(i) });
    } else if (typeof value === 'object' && value !== null) {
      const keys = Object.keys(value);
      for (let i = keys.length - 1; i >= 0; i -= 1) {
        stack.push({ value: (value as Record<string, unknown>)[keys[i]], depth: depth + 1, key: keys[i] });
      }
    }
  }
  return undefined;
}
