import type {Snippet, SnippetSlot} from './context.js'

const BEGIN = '# >>> snippet'
const END = '# <<< snippet'

/**
 * An operator's files for one slot as config lines: each file verbatim between marker comments
 * that name the slot and the file, so a reader (and `snippetAt`) can tell whose line it is.
 */
export function snippetLines(slot: SnippetSlot, snippets: Snippet[]): string[] {
  return snippets.flatMap(({file, text}) => [`${BEGIN} ${slot} ${file}`, ...(text === '' ? [] : text.replace(/\r?\n$/, '').split(/\r?\n/)), `${END} ${slot} ${file}`])
}

/** Where line `line` (1-based) of a rendered file came from, when it lies inside a snippet: the snippet's file and line. */
export function snippetAt(rendered: string, line: number): {file: string; line: number; slot: string} | undefined {
  const lines = rendered.split('\n')
  if (line < 1 || line > lines.length) return undefined
  for (let index = line - 1; index >= 0; index--) {
    const text = lines[index]
    if (text.startsWith(END)) return undefined
    if (text.startsWith(BEGIN)) {
      const match = /^(\S+) (.+)$/.exec(text.slice(BEGIN.length + 1))
      return match && index < line - 1 ? {file: match[2], line: line - 1 - index, slot: match[1]} : undefined
    }
  }

  return undefined
}

/**
 * Moves checker messages that point into a snippet (a line of `renderedFile` between markers) to
 * the snippet's own file and line, so the operator is sent to the file they wrote.
 */
export function placeInSnippets<M extends {file?: string; line?: number; message: string}>(messages: M[], rendered: string, renderedFile: string): M[] {
  return messages.map((m) => {
    if (m.file !== renderedFile || m.line === undefined) return m
    const origin = snippetAt(rendered, m.line)
    return origin ? {...m, file: origin.file, line: origin.line, message: `${m.message} (snippet ${origin.slot}, line ${m.line} of the rendered file)`} : m
  })
}
