/**
 * `GET /tasks/{uid}/documents` over a Miroir task: each node that got a batch of the task holds
 * its own part of the payload (the documents of the shards it owns, reserved fields stamped), so
 * the task's documents are the union of those parts, every replica's copy counted once and the
 * reserved fields removed, as NDJSON like one node answers.
 */
import { stripDocument } from './documents.js';
import { canonicalId } from './hash.js';

/**
 * The NDJSON of the task's documents from the nodes' NDJSON answers (`parts`, in node order).
 * A document is identified by its primary key value (`primaryKey`); without one, by its content.
 * Documents keep the order of the first part that holds them: the client's payload order within a
 * node, node after node (Miroir does not keep the payload order across nodes).
 */
export function mergeTaskDocuments(parts: readonly string[], primaryKey: string | null): string {
  const seen = new Set<string>();
  let out = '';
  for (const part of parts) {
    for (const line of part.split('\n')) {
      if (line.trim() === '') continue;
      const doc = JSON.parse(line) as Record<string, unknown>;
      const clean = stripDocument(doc);
      const text = JSON.stringify(clean);
      const id = (primaryKey === null ? null : canonicalId(clean[primaryKey])) ?? `#${text}`;
      if (seen.has(id)) continue;
      seen.add(id);
      out += `${text}\n`;
    }
  }
  return out;
}
