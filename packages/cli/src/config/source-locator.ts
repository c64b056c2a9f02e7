import { type Document, isMap, isSeq, LineCounter, type Node, type Pair } from 'yaml';

/** A position in the config file, 1-based. */
export interface SourcePosition {
  line: number;
  column: number;
}

/** Finds where a field path sits in the file; `undefined` when the format has no positions (TypeScript). */
export type SourceLocator = (path: readonly (string | number)[]) => SourcePosition | undefined;

/**
 * Positions from the `yaml` package's node ranges (it parses JSON too). A path that does not exist (a
 * missing required field) falls back to its nearest existing parent.
 */
export function yamlSourceLocator(document: Document, lineCounter: LineCounter): SourceLocator {
  return (path) => {
    for (let length = path.length; length >= 0; length--) {
      const node = nodeAt(document.contents as Node | null, path.slice(0, length));
      if (node?.range) {
        const position = lineCounter.linePos(node.range[0]);
        return { line: position.line, column: position.col };
      }
    }
    return undefined;
  };
}

function nodeAt(root: Node | null, path: readonly (string | number)[]): Node | undefined {
  let node: Node | null | undefined = root;
  for (const segment of path) {
    if (isMap(node)) {
      const pair: Pair | undefined = node.items.find((item: Pair) => {
        const key = item.key as { value?: unknown } | null;
        return key !== null && typeof key === 'object' && String(key.value) === String(segment);
      });
      // Point at the key when the value is a scalar on the same line; at the value otherwise.
      node = (pair?.value as Node | null | undefined) ?? (pair?.key as Node | undefined);
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment] as Node | undefined;
    } else {
      return undefined;
    }
    if (!node) return undefined;
  }
  return node ?? undefined;
}

export { LineCounter };
