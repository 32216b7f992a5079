import type * as z from './zod.js'

import {closest} from '../system/closest.js'

/** One schema problem in plain words, with the path it belongs at (an unknown key: the key itself). */
export interface PlainIssue {
  message: string
  path: PropertyKey[]
}

const EXPECTED: Record<string, string> = {
  array: 'a list (lines starting with "- ")',
  boolean: 'true or false',
  int: 'a whole number',
  number: 'a number',
  object: 'a mapping of keys to values',
  string: 'text',
}

/** What a YAML value is, in the words of EXPECTED. */
function kindOf(value: unknown): string {
  if (value === null) return 'empty (null)'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'number') return Number.isInteger(value) ? `the number ${value}` : `the fraction ${value}`
  if (typeof value === 'string') return `the text ${JSON.stringify(value)}`
  return typeof value === 'boolean' ? String(value) : typeof value
}

/**
 * zod's issues in the words an admin reads: what was expected and what was found, a missing
 * field called missing, and each unknown key on its own with the known key it is closest to
 * (`helth` -> did you mean `health`?). The schema's own messages ("must be ...") are kept.
 * `knownKeys` gives the keys allowed at a path (from the JSON Schema).
 */
export function plainIssues(issues: readonly z.core.$ZodIssue[], knownKeys: (path: PropertyKey[]) => string[]): PlainIssue[] {
  return issues.flatMap((issue): PlainIssue[] => {
    const path = [...issue.path]
    const input = (issue as {input?: unknown}).input
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = knownKeys(path)
        return issue.keys.map((key) => {
          const guess = closest(key, known)
          const hint = guess === undefined ? `known keys here: ${known.join(', ')}` : `did you mean \`${guess}\`?`
          return {message: `unknown key \`${key}\`; ${hint}`, path: [...path, key]}
        })
      }

      case 'invalid_type': {
        const expected = EXPECTED[issue.expected] ?? issue.expected
        if (!('input' in issue) || input === undefined) return [{message: `is missing: expected ${expected}`, path}]
        return [{message: `must be ${expected}, not ${kindOf(input)}`, path}]
      }

      case 'invalid_value': {
        const options = issue.values.map(String)
        const guess = typeof input === 'string' ? closest(input, options) : undefined
        return [{message: `must be one of ${options.join(', ')}, not ${kindOf(input)}${guess ? `; did you mean \`${guess}\`?` : ''}`, path}]
      }

      case 'invalid_union': {
        const words = issue.errors.flatMap((alternative) => alternative.map((i) => (i.code === 'invalid_type' ? (EXPECTED[i.expected] ?? i.expected) : undefined)))
        const expected = [...new Set(words)]
        if (expected.includes(undefined) || expected.length === 0) return [{message: issue.message, path}]
        // The inventory's one text-or-number union is a duration.
        if (expected.length === 2 && expected.includes(EXPECTED.string) && expected.includes(EXPECTED.number)) {
          return [{message: `must be a duration such as "500ms", "5s", "2m" or "1h" (or a number of milliseconds), not ${kindOf(input)}`, path}]
        }

        return [{message: `must be ${expected.join(' or ')}, not ${kindOf(input)}`, path}]
      }

      case 'too_small':
      case 'too_big': {
        if (!issue.message.startsWith('Too ')) return [{message: issue.message, path}]
        const bound = issue.code === 'too_small' ? `at least ${issue.minimum}` : `at most ${issue.maximum}`
        const unit = issue.origin === 'array' ? ' items' : issue.origin === 'string' ? ' characters' : ''
        return [{message: `must be ${bound}${unit}`, path}]
      }

      default: {
        return [{message: issue.message, path}]
      }
    }
  })
}
