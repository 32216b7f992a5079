/**
 * Token-level mutations of relayd.conf text for the robustness property test: insert, delete
 * and swap tokens of a corpus file, with hostile tokens (undefined macros, huge numbers, open
 * quotes, self includes, continuation backslashes) in the pool.
 */

/** Whitespace stays glued to the token before it; comments, quoted strings and words are whole tokens. */
export function tokenize(text: string): string[] {
  return text.match(/\n|[^\S\n]+|#[^\n]*|"[^"\n]*"?|'[^'\n]*'?|[\w.:/$-]+|./gs) ?? []
}

/** Tokens that have broken lexers and parsers before, added to the corpus's own tokens. */
export const HOSTILE_TOKENS = [
  '$', '$x', '$y', '$ext', '99999999999999999999', '-99999999999999999999', '-', '"', "'", '\\', '\\\n', '{', '}', '<', '>',
  '<t>', '=', 'include', '"self.conf"', '"loop-a.conf"', '"/dev/zero"', '\n', '#', ',', '!', '"a b"', '\u0000', 'x = "1"',
]

/** Files the mutated configurations may include: themselves, a cycle, and a valid table. */
export const MUTATION_INCLUDES: Record<string, string> = {
  'loop-a.conf': 'include "loop-b.conf"\n',
  'loop-b.conf': 'include "loop-a.conf"\n',
  'self.conf': 'include "self.conf"\n',
  'tables.conf': 'table <t> { 10.0.0.1 }\n',
}

/** Applies `count` random insertions, deletions and swaps of tokens. */
export function mutateText(text: string, random: () => number, pool: string[], count: number): string {
  const tokens = tokenize(text)
  const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)]
  for (let i = 0; i < count; i++) {
    const at = Math.floor(random() * (tokens.length + 1))
    const kind = random()
    if (kind < 0.4 || tokens.length < 2) tokens.splice(at, 0, pick(pool), ' ')
    else if (kind < 0.7) tokens.splice(Math.min(at, tokens.length - 1), 1)
    else {
      const other = Math.floor(random() * tokens.length)
      const here = Math.min(at, tokens.length - 1)
      ;[tokens[here], tokens[other]] = [tokens[other], tokens[here]]
    }
  }

  return tokens.join('')
}
