/**
 * Requests with the same key within `ttlMs` share one computation, so any number of open pages
 * polling the same figures cost one set of queries per `ttlMs`. A failed computation is not kept.
 */
export function sharedAnswers<T>(ttlMs: number): (key: string, compute: () => Promise<T>) => Promise<T> {
  const entries = new Map<string, { at: number; answer: Promise<T> }>();
  return (key, compute) => {
    const now = Date.now();
    const hit = entries.get(key);
    if (hit && now - hit.at < ttlMs) return hit.answer;
    // Expired entries go on each miss: the map holds only keys asked for within the last ttlMs.
    for (const [old, entry] of entries) if (now - entry.at >= ttlMs) entries.delete(old);
    const entry = { at: now, answer: compute() };
    entries.set(key, entry);
    entry.answer.catch(() => {
      if (entries.get(key) === entry) entries.delete(key);
    });
    return entry.answer;
  };
}
