/**
 * RPC URLs routinely carry credentials: `https://user:pass@host`, Infura's
 * `/v3/<project id>`, Alchemy's `/v2/<key>`, QuickNode's `/<token>/`, `?apikey=`. Error
 * messages and reports name the endpoint (which chain, which provider) but must never
 * print those parts, since they end up in CI logs and bug reports.
 */

const REDACTED = "***";

/** Query parameters whose value is a credential whatever it looks like. */
const SECRET_PARAM = /(key|token|secret|auth|pass(word)?|sig(nature)?|credential|session|jwt|dkey)/i;
/** A path segment that is an API version marker: the next segment is usually the key. */
const VERSION_SEGMENT = /^v\d+$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TOKEN_CHARS = /^[A-Za-z0-9_\-.~]+$/;

/**
 * Whether a path segment or query value looks like an access token rather than a route
 * name: long, made of token characters, and containing a digit (routes such as `mainnet`,
 * `rpc`, `ethereum-sepolia` have none). UUIDs always count.
 */
function looksLikeToken(value: string, minLength: number): boolean {
  if (UUID.test(value)) return true;
  return value.length >= minLength && TOKEN_CHARS.test(value) && /\d/.test(value);
}

/**
 * A form of `url` that is safe to print: userinfo removed, fragment removed, key-looking
 * path segments and secret query values replaced by `***`. Scheme, host, port and the
 * shape of the path stay, so the reader can still tell which endpoint was used. Input that
 * is not a URL is returned with anything that could be userinfo or a long token masked.
 */
export function redactRpcUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return redactUnparsed(url);
  }
  // "user:pw@host:8545" parses as scheme "user:"; only real endpoint schemes are rebuilt.
  if (!/^(?:https?|wss?):$/.test(parsed.protocol) || parsed.host === "") return redactUnparsed(url);
  const segments = parsed.pathname.split("/");
  const path = segments
    .map((segment, index) => {
      if (segment === "") return segment;
      const decoded = safeDecode(segment);
      const previous = index > 0 ? segments[index - 1] ?? "" : "";
      // After `/v2/`, `/v3/` a segment of 8+ characters is the provider key even without
      // digits (Alchemy keys can be letters only); elsewhere require a token shape.
      if (VERSION_SEGMENT.test(previous) && decoded.length >= 8 && TOKEN_CHARS.test(decoded)) return REDACTED;
      return looksLikeToken(decoded, 16) ? REDACTED : segment;
    })
    .join("/");
  const query: string[] = [];
  for (const [name, value] of parsed.searchParams) {
    const secret = SECRET_PARAM.test(name) || looksLikeToken(value, 16);
    query.push(`${encodeURIComponent(name)}=${secret ? REDACTED : encodeURIComponent(value)}`);
  }
  const search = query.length > 0 ? `?${query.join("&")}` : "";
  // `host` keeps a non-default port; userinfo and the fragment are dropped on purpose.
  return `${parsed.protocol}//${parsed.host}${path}${search}`;
}

/** Replaces every http(s)/ws(s) URL inside free text (an error message) by its redacted form. */
export function redactUrlsInText(text: string): string {
  return text.replace(/\b(?:https?|wss?):\/\/[^\s"'<>`)\]}]+/gi, (match) => {
    // Sentence punctuation after a URL is not part of it.
    const trailing = /[.,;:!?]+$/.exec(match)?.[0] ?? "";
    return redactRpcUrl(match.slice(0, match.length - trailing.length)) + trailing;
  });
}

function redactUnparsed(text: string): string {
  return text
    .replace(/^([^@\s]*?\/\/)?[^/@\s]*@/, "$1")
    .replace(/[A-Za-z0-9_-]{20,}/g, (token) => (/\d/.test(token) ? REDACTED : token));
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
