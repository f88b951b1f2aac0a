/**
 * True when `text` is exactly one JSON value (RFC 8259), surrounding whitespace allowed. Iterative,
 * so any depth is fine: Postgres's json/jsonb text is spliced into bodies as it is, and this is the
 * check that splicing cannot break the body around it. Never parses numbers, so none is rounded.
 */
export function isJsonText(text: string): boolean {
  // Containers open at this point: 0x7b '{' or 0x5b '['.
  const stack: number[] = [];
  let i = skipSpace(text, 0);
  const n = text.length;
  for (;;) {
    // A value is expected at i.
    if (i >= n) return false;
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const close = c === 0x7b ? 0x7d : 0x5d;
      i = skipSpace(text, i + 1);
      if (text.charCodeAt(i) === close) {
        i += 1;
      } else {
        stack.push(c);
        if (c === 0x7b) {
          i = member(text, i);
          if (i < 0) return false;
        }
        continue;
      }
    } else if (c === 0x22 /* " */) {
      i = string(text, i);
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      i = number(text, i);
    } else if (text.startsWith('true', i)) {
      i += 4;
    } else if (text.startsWith('false', i)) {
      i += 5;
    } else if (text.startsWith('null', i)) {
      i += 4;
    } else {
      return false;
    }
    if (i < 0) return false;
    // After a value: close containers, or a comma and the next value.
    for (;;) {
      i = skipSpace(text, i);
      if (stack.length === 0) return i === n;
      const top = stack[stack.length - 1]!;
      const ch = text.charCodeAt(i);
      if (ch === 0x2c /* , */) {
        i = skipSpace(text, i + 1);
        if (top === 0x7b) {
          i = member(text, i);
          if (i < 0) return false;
        }
        break;
      }
      if (ch !== (top === 0x7b ? 0x7d : 0x5d)) return false;
      stack.pop();
      i += 1;
    }
  }
}

/** Reads `"key" :` at i and returns where the value starts, or -1. */
function member(text: string, i: number): number {
  if (text.charCodeAt(i) !== 0x22) return -1;
  i = string(text, i);
  if (i < 0) return -1;
  i = skipSpace(text, i);
  if (text.charCodeAt(i) !== 0x3a /* : */) return -1;
  return skipSpace(text, i + 1);
}

function skipSpace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i += 1;
  }
}

/** Reads a string starting at the quote at i; returns the index after its closing quote, or -1. */
function string(text: string, i: number): number {
  const n = text.length;
  for (i += 1; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c < 0x20) return -1;
    if (c === 0x5c /* \ */) {
      const e = text.charCodeAt(i + 1);
      if (e === 0x75 /* u */) {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return -1;
        i += 5;
      } else if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
        i += 1;
      } else {
        return -1;
      }
    }
  }
  return -1;
}

const numberPattern = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/** Reads a number at i; returns the index after it, or -1. */
function number(text: string, i: number): number {
  numberPattern.lastIndex = i;
  const match = numberPattern.exec(text);
  return match ? i + match[0].length : -1;
}
