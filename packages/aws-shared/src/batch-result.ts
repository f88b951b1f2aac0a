/** One entry of a batch call's `Failed` list, read defensively. */
export interface BatchFailure {
  readonly code: string;
  readonly message: string;
  readonly senderFault: boolean;
}

// The most of an upstream's error text kept in an error message.
const maxText = 300;

function text(value: unknown, fallback: string): string {
  return typeof value === 'string' && value !== '' ? value.slice(0, maxText) : fallback;
}

/**
 * What a PublishBatch or SendMessageBatch answer says of each entry id: `accepted` holds the ids
 * listed as successful WITH a message id (an entry without one was not accepted, whatever the
 * list says), `failed` the refusals. Tolerates answers of the wrong shape (not lists, entries that
 * are not objects, ids that are not strings): an entry they say nothing clear about is in neither,
 * and the caller retries it.
 *
 * @example
 * ```ts
 * const { accepted, failed } = readBatchResult(result);
 * if (accepted.has('m0')) settle(pending);
 * ```
 */
export function readBatchResult(result: unknown): { accepted: Set<string>; failed: Map<string, BatchFailure> } {
  const accepted = new Set<string>();
  const failed = new Map<string, BatchFailure>();
  const r = (typeof result === 'object' && result !== null ? result : {}) as { Successful?: unknown; Failed?: unknown };
  for (const entry of Array.isArray(r.Successful) ? r.Successful : []) {
    const e = (typeof entry === 'object' && entry !== null ? entry : {}) as { Id?: unknown; MessageId?: unknown };
    if (typeof e.Id === 'string' && typeof e.MessageId === 'string' && e.MessageId !== '') accepted.add(e.Id);
  }
  for (const entry of Array.isArray(r.Failed) ? r.Failed : []) {
    const e = (typeof entry === 'object' && entry !== null ? entry : {}) as { Id?: unknown; Code?: unknown; Message?: unknown; SenderFault?: unknown };
    if (typeof e.Id !== 'string') continue;
    failed.set(e.Id, { code: text(e.Code, 'Error'), message: text(e.Message, 'no message'), senderFault: e.SenderFault === true });
  }
  // An id listed both ways is taken as refused: the answer contradicts itself, and a retry is safe.
  for (const id of failed.keys()) accepted.delete(id);
  return { accepted, failed };
}
