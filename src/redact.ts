/**
 * What may be shown of an address: its scheme, host and port. A URL's user, password, path and query
 * may carry a secret (a webhook's token, a model endpoint's key, a database password), so text and
 * JSON shown to a reader (the API, the grid, Bull Board, error messages) keep only the origin.
 */

/** `scheme://host[:port]`, written as the start of a URL (authority up to the next delimiter or space). */
const URL_IN_TEXT = /\b([a-z][a-z0-9+.-]*:)\/\/([^\s/?#"'<>`]*)([^\s"'<>`]*)/gi;

/** `https://hooks.example.com/t/abc?k=1` → `https://hooks.example.com`; userinfo dropped. */
export function originOf(url: string): string {
  return url.replace(URL_IN_TEXT, (_all, scheme: string, authority: string) => {
    const host = authority.slice(authority.lastIndexOf('@') + 1);
    return `${scheme.toLowerCase()}//${host}`;
  });
}

/** Every URL in a text shown as its origin (see originOf). */
export const redactText = (text: string): string => originOf(text);

/** A copy of a JSON value with every URL in its strings shown as its origin; keys are left alone. */
export function redactUrls<T>(value: T): T {
  return redact(value) as T;
}

function redact(value: unknown): unknown {
  if (typeof value === 'string') return value.includes('://') ? redactText(value) : value;
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object' && isPlain(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redact(item)]));
  }
  return value;
}

function isPlain(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
