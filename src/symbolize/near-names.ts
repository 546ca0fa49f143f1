/** "Did you mean" suggestions for a name that matched nothing. */

/**
 * Up to `max` candidates close to `wanted`, closest first: small edit distance (with
 * transpositions, case-insensitive) first, then names starting with it, then names containing it.
 */
export function suggestNames(wanted: string, candidates: Iterable<string>, max = 5): string[] {
  const w = wanted.toLowerCase();
  if (w === '' || max <= 0) return [];
  const maxDist = Math.min(4, Math.max(1, Math.round(w.length / 3)));
  const scored: { name: string; tier: number; score: number }[] = [];
  const seen = new Set<string>();
  for (const name of candidates) {
    if (seen.has(name)) continue;
    seen.add(name);
    const c = name.toLowerCase();
    if (Math.abs(c.length - w.length) <= maxDist) {
      const d = editDistance(w, c, maxDist);
      if (d <= maxDist) {
        scored.push({ name, tier: 0, score: d });
        continue;
      }
    }
    if (w.length < 3) continue;
    if (c.startsWith(w)) scored.push({ name, tier: 1, score: c.length - w.length });
    else if (c.includes(w)) scored.push({ name, tier: 2, score: c.length - w.length });
  }
  scored.sort((a, b) => a.tier - b.tier || a.score - b.score || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return scored.slice(0, max).map((s) => s.name);
}

/**
 * Optimal-string-alignment distance (Levenshtein plus adjacent transpositions),
 * giving up early with `limit + 1` once every alignment exceeds `limit`.
 */
export function editDistance(a: string, b: string, limit = Infinity): number {
  const n = a.length;
  const m = b.length;
  if (Math.abs(n - m) > limit) return limit + 1;
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = new Array<number>(m + 1);
  let cur = new Array<number>(m + 1);
  for (let j = 0; j <= m; j++) prev[j] = j;
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    let rowMin = cur[0];
    for (let j = 1; j <= m; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2] + 1);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > limit) return limit + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[m];
}
