/**
 * Hides the password and every query value of a connection URI so it can be logged or shown in
 * an error: tokens and signatures travel in query strings (webhook URLs, presigned URLs), so none
 * is shown. Unparsable input is replaced wholesale rather than echoed, since it may be a secret.
 *
 * @example
 * ```ts
 * redactUri('amqp://user:s3cret@rabbit//'); // 'amqp://user:***@rabbit//'
 * redactUri('https://hook/x?token=abc&v=2'); // 'https://hook/x?token=***&v=***'
 * ```
 */
export function redactUri(uri: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*@)?(.*)$/i.exec(uri);
  if (!match) return '<unparsable uri>';
  const [, scheme, userinfo = '', rest = ''] = match;
  let user = userinfo;
  if (userinfo) {
    const colon = userinfo.indexOf(':');
    user = colon === -1 ? userinfo : `${userinfo.slice(0, colon)}:***@`;
  }
  return `${scheme}${user}${redactQuery(rest)}`;
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
