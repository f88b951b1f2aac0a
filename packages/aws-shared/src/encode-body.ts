import { isUtf8 } from 'node:buffer';

// Characters SQS accepts in a message body (and so SNS can deliver to SQS): #x9 #xA #xD
// #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF. Anything else travels as base64.
const disallowed = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
// Some SQS implementations (emulators) also refuse characters beyond the Basic Multilingual Plane.
const disallowedStrict = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/u;

/** Stands in for an empty body, which SNS and SQS refuse; flagged by `body_encoding=empty`. */
export const EMPTY_BODY_PLACEHOLDER = '(empty)';

/** A body ready for a string-only API. */
export interface EncodedBody {
  readonly text: string;
  /**
   * `utf8`: `text` is the body. `base64`: `text` is the base64 of the body (not UTF-8, or
   * characters AWS refuses). `empty`: the body is empty and `text` a placeholder.
   */
  readonly encoding: 'utf8' | 'base64' | 'empty';
}

/**
 * UTF-8 text as is; anything else as base64, flagged so consumers can decode it. With `bmpOnly`,
 * characters beyond the Basic Multilingual Plane also force base64 (for queues that refuse them).
 *
 * @example
 * ```ts
 * encodeBody(Buffer.from([0xff])); // { text: '/w==', encoding: 'base64' }
 * ```
 */
export function encodeBody(body: Buffer, bmpOnly = false): EncodedBody {
  if (body.length === 0) return { text: EMPTY_BODY_PLACEHOLDER, encoding: 'empty' };
  if (isUtf8(body)) {
    const text = body.toString('utf8');
    if (!(bmpOnly ? disallowedStrict : disallowed).test(text)) return { text, encoding: 'utf8' };
  }
  return { text: body.toString('base64'), encoding: 'base64' };
}
