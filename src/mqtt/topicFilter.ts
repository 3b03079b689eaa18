/**
 * MQTT topic filters (`+` one level, `#` the rest), matched here rather than trusting the broker:
 * one subscription can serve several inputs, and a persistent session may still hold filters of
 * an older config. https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901241
 */

/** A reason the filter is invalid, or undefined when it is a valid filter. */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return 'empty topic';
  if (filter.includes('\u0000')) return 'topic contains a NUL character';
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] ?? '';
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return '# must be a whole level and the last one';
    if (level.includes('+') && level !== '+') return '+ must be a whole level';
  }
  return undefined;
}

/** True when `topic` (a concrete topic name) matches `filter`. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  // Topics starting with $ (e.g. $SYS) are not matched by a leading wildcard (spec 4.7.2).
  if (topic.startsWith('$') && (f[0] === '#' || f[0] === '+')) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** True when every topic matched by `inner` is also matched by `outer`. */
export function filterCovers(outer: string, inner: string): boolean {
  const o = outer.split('/');
  const n = inner.split('/');
  if (inner.startsWith('$') !== outer.startsWith('$') && (o[0] === '#' || o[0] === '+')) return false;
  for (let i = 0; i < o.length; i++) {
    const level = o[i];
    if (level === '#') return true;
    const other = n[i];
    if (other === undefined) return false;
    if (other === '#') return false;
    if (level === '+') continue;
    if (level !== other) return false;
  }
  return o.length === n.length;
}

/**
 * The fewest filters that receive every message of `filters`: duplicates and filters covered by
 * another one are dropped, since a broker may deliver one copy per matching subscription and a
 * toggle input must not see a button press twice. Partial overlaps (`a/+/c` and `a/b/+`) remain.
 */
export function reduceFilters(filters: readonly string[]): string[] {
  const unique = [...new Set(filters)];
  // Only a filter with a wildcard covers another one (without, it covers only itself, and duplicates
  // are gone): comparing against those alone keeps 10,000 plain topics linear instead of quadratic.
  const wild = unique.flatMap((g, j) => (g.includes('+') || g.includes('#') ? [{ g, j }] : []));
  return unique.filter((f, i) => !wild.some(({ g, j }) => j !== i && filterCovers(g, f) && (!filterCovers(f, g) || j < i)));
}
