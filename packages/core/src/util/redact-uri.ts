// A path segment that looks like a credential: 20 or more URL-safe characters mixing upper- and
// lower-case letters and digits (Slack's and Discord's webhook URLs carry their secret this way).
const tokenSegment = /^(?=[^/]*[0-9])(?=[^/]*[a-z])(?=[^/]*[A-Z])[A-Za-z0-9_-]{20,}$/;

/**
 * Hides the secrets of a URI so it can be logged or shown in an error: the password; the user of
 * an http(s) URI without a password (a token as user name); every query value (tokens and
 * signatures travel there: webhook URLs, presigned URLs); the fragment; and path segments that
 * look like credentials. Unparsable input is replaced wholesale rather than echoed.
 *
 * @example
 * ```ts
 * redactUri('amqp://user:s3cret@rabbit//'); // 'amqp://user:***@rabbit//'
 * redactUri('https://hook/x?token=abc&v=2'); // 'https://hook/x?token=***&v=***'
 * ```
 */
export function redactUri(uri: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*@)?([^/?#]*)([^?#]*)(.*)$/is.exec(uri);
  if (!match) return '<unparsable uri>';
  const [, scheme = '', userinfo = '', host = '', path = '', rest = ''] = match;
  let user = userinfo;
  if (userinfo) {
    const colon = userinfo.indexOf(':');
    user = colon !== -1 ? `${userinfo.slice(0, colon)}:***@` : /^https?:/i.test(scheme) ? '***@' : userinfo;
  }
  const shownPath = path
    .split('/')
    .map((segment) => (tokenSegment.test(segment) ? '***' : segment))
    .join('/');
  return `${scheme}${user}${host}${shownPath}${redactQuery(rest)}`;
}

/**
 * `uri` with every query parameter value (and every value-less parameter) and the fragment
 * replaced by `***`: `https://hook/x?token=abc&v=2` becomes `https://hook/x?token=***&v=***`.
 *
 * @example
 * ```ts
 * redactQuery('/in?sig=abc#frag'); // '/in?sig=***#***'
 * ```
 */
export function redactQuery(uri: string): string {
  const start = uri.indexOf('?');
  if (start === -1) return uri;
  const hash = uri.indexOf('#', start);
  const query = uri.slice(start + 1, hash === -1 ? undefined : hash);
  const shown = query
    .split('&')
    .map((pair) => {
      if (pair === '') return pair;
      const equals = pair.indexOf('=');
      return equals === -1 ? '***' : `${pair.slice(0, equals)}=***`;
    })
    .join('&');
  return `${uri.slice(0, start)}?${shown}${hash === -1 ? '' : '#***'}`;
}
