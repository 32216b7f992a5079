/**
 * A syntax check for doas.conf(5), for machines without doas (`doas -C` exists only on OpenBSD).
 * It follows OpenBSD's usr.bin/doas/parse.y: one rule per line,
 *   permit [nopass | nolog | persist | keepenv | setenv { … }]… IDENTITY [as TARGET] [cmd COMMAND [args …]]
 *   deny IDENTITY [as TARGET] [cmd COMMAND [args …]]
 * with `#` comments, double quotes, and backslash escapes (a backslash before a newline joins lines).
 */

const KEYWORDS = new Set(['args', 'as', 'cmd', 'deny', 'keepenv', 'nolog', 'nopass', 'permit', 'persist', 'setenv'])

interface Token {
  /** A keyword, a word (quoted or escaped words are never keywords), or one of `{ } =` and end of line. */
  kind: 'eol' | 'keyword' | 'punct' | 'word'
  line: number
  value: string
}

/** Every syntax error found, as `LINE: message`; empty when doas would accept the file. */
export function checkDoasConf(text: string): string[] {
  const errors: string[] = []
  const tokens = tokenize(text, errors)
  let at = 0
  const peek = () => tokens[at]
  const next = () => tokens[at++]
  const fail = (token: Token, message: string) => {
    errors.push(`${token.line}: ${message}`)
    while (peek() && peek().kind !== 'eol') at++
  }

  while (at < tokens.length) {
    const start = next()
    if (start.kind === 'eol') continue
    if (start.kind !== 'keyword' || (start.value !== 'permit' && start.value !== 'deny')) {
      fail(start, `a rule starts with permit or deny, not "${start.value}"`)
      continue
    }

    const options = new Set<string>()
    let broken = false
    while (start.value === 'permit' && peek()?.kind === 'keyword' && ['keepenv', 'nolog', 'nopass', 'persist', 'setenv'].includes(peek().value)) {
      const option = next()
      if (options.has(option.value)) {
        fail(option, `${option.value} given twice`)
        broken = true
        break
      }

      options.add(option.value)
      if (option.value === 'setenv' && !setenvList()) {
        broken = true
        break
      }
    }

    if (broken) continue
    if (options.has('nopass') && options.has('persist')) {
      fail(start, "can't combine nopass and persist")
      continue
    }

    const identity = next()
    if (identity?.kind !== 'word') {
      fail(identity ?? start, 'a rule needs an identity (user or :group)')
      continue
    }

    if (peek()?.kind === 'keyword' && peek().value === 'as') {
      next()
      if (next()?.kind !== 'word') {
        fail(tokens[at - 1] ?? start, '"as" needs a target user')
        continue
      }
    }

    if (peek()?.kind === 'keyword' && peek().value === 'cmd') {
      next()
      if (next()?.kind !== 'word') {
        fail(tokens[at - 1] ?? start, '"cmd" needs a command')
        continue
      }

      if (peek()?.kind === 'keyword' && peek().value === 'args') {
        next()
        while (peek()?.kind === 'word') next()
      }
    }

    const end = peek()
    if (end && end.kind !== 'eol') fail(end, `unexpected "${end.value}"`)
  }

  return errors

  /** `{ VAR VAR=value -VAR … }` after setenv. */
  function setenvList(): boolean {
    const open = next()
    if (open?.kind !== 'punct' || open.value !== '{') {
      fail(open ?? tokens[at - 1], 'setenv needs a { … } list')
      return false
    }

    while (peek() && !(peek().kind === 'punct' && peek().value === '}')) {
      const name = next()
      if (name.kind !== 'word') {
        fail(name, `unexpected "${name.value}" in setenv`)
        return false
      }

      if (peek()?.kind === 'punct' && peek().value === '=') {
        next()
        if (next()?.kind !== 'word') {
          fail(tokens[at - 1] ?? name, 'invalid setenv expression')
          return false
        }
      }
    }

    if (!peek()) {
      errors.push(`${tokens.at(-1)?.line ?? 1}: setenv list not closed`)
      return false
    }

    next()
    return true
  }
}

function tokenize(text: string, errors: string[]): Token[] {
  const tokens: Token[] = []
  let line = 1
  let index = 0
  while (index < text.length) {
    const c = text[index]
    if (c === ' ' || c === '\t') {
      index++
    } else if (c === '\n') {
      tokens.push({kind: 'eol', line, value: '\\n'})
      line++
      index++
    } else if (c === '#') {
      while (index < text.length && text[index] !== '\n') index++
    } else if (c === '{' || c === '}' || c === '=') {
      tokens.push({kind: 'punct', line, value: c})
      index++
    } else {
      const startLine = line
      let word = ''
      let quoted = false
      let literal = false
      for (; index < text.length; index++) {
        const ch = text[index]
        if (ch === '\\') {
          const following = text[index + 1]
          if (following === undefined) errors.push(`${line}: unterminated escape`)
          else if (following === '\n') line++
          else word += following
          literal = true
          index++
          continue
        }

        if (ch === '"') {
          quoted = !quoted
          literal = true
          continue
        }

        if (ch === '\n' && quoted) {
          errors.push(`${line}: unterminated quotes`)
          quoted = false
          break
        }

        if (!quoted && (ch === ' ' || ch === '\t' || ch === '\n' || ch === '#' || ch === '{' || ch === '}' || ch === '=')) break
        if (ch === '\0') errors.push(`${line}: NUL character`)
        word += ch
      }

      if (quoted) errors.push(`${line}: unterminated quotes`)
      tokens.push({kind: !literal && KEYWORDS.has(word) ? 'keyword' : 'word', line: startLine, value: word})
    }
  }

  return tokens
}
