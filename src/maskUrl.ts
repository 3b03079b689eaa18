/** What replaces a secret in a URL shown in a log line. */
export const MASK = '***';

/**
 * The URL with its secrets masked, for log lines and printed summaries: the password, every
 * query value (brokers over ws(s) are often given `?token=…`, `?access_token=…` or a presigned
 * `X-Amz-Signature=…`; there is no telling a harmless parameter from a secret one, so all are
 * masked; names stay, so a reader still sees what was configured) and the fragment. With
 * `dropUserInfo` the user name goes too. Something that is not a URL is not echoed at all.
 */
export function maskUrl(text: string, options: { readonly dropUserInfo?: boolean } = {}): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return '(not a URL)';
  }
  if (options.dropUserInfo) url.username = '';
  if (url.password) url.password = options.dropUserInfo ? '' : MASK;
  if (url.search) {
    // Built by hand: URLSearchParams would percent-encode the mask.
    const names = [...url.searchParams.keys()];
    url.search = names.map((name) => `${encodeURIComponent(name)}=${MASK}`).join('&');
  }
  if (url.hash) url.hash = MASK;
  return url.toString();
}
