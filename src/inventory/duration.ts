const UNIT_MS: Record<string, number> = {d: 86_400_000, h: 3_600_000, m: 60_000, ms: 1, s: 1000}

/**
 * Parses "500ms", "5s", "2m", "1h", "1d" (or a bare number of milliseconds) into milliseconds;
 * undefined for anything else, including zero, fractions of a millisecond and absurd sizes.
 */
export function parseDuration(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 && value <= 2_147_483_647 ? value : undefined
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(value)
  if (!match) return undefined
  const ms = Number(match[1]) * UNIT_MS[match[2]]
  return ms > 0 && ms <= 2_147_483_647 ? ms : undefined
}

/** Formats milliseconds in the largest unit that divides it exactly ("90s", "30m", "250ms"). */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`
  }

  return `${ms}ms`
}
