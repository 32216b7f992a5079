/** Edit distance (insertions, deletions, substitutions, and swaps of two neighbours count one each). */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({length: a.length + 1}, (_, i) => [i, ...Array.from({length: b.length}, (_, j) => (i === 0 ? j + 1 : 0))])
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1)
    }
  }

  return rows[a.length][b.length]
}

/**
 * The one candidate close to `word` (case ignored), for a "did you mean" hint: within a third of
 * the word's length (at least 1, at most 3 edits), and only when no other candidate is as close,
 * since a coin-toss suggestion misleads more than none.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)))
  const scored = candidates.map((candidate) => ({candidate, distance: editDistance(word.toLowerCase(), candidate.toLowerCase())}))
  const best = Math.min(...scored.map((s) => s.distance))
  const winners = scored.filter((s) => s.distance === best)
  return best <= limit && winners.length === 1 ? winners[0].candidate : undefined
}
