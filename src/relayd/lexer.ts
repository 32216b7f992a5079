import {KEYWORDS} from './keywords.js'

/** One token of relayd.conf, as parse.y's yylex returns it. */
export type Token =
  | {file: string; kind: 'char'; line: number; value: string}
  | {file: string; kind: 'eof'; line: number}
  | {file: string; kind: 'error'; line: number}
  | {file: string; kind: 'keyword'; line: number; value: string}
  | {file: string; kind: 'number'; line: number; value: number}
  | {file: string; kind: 'string'; line: number; quoted: boolean; value: string}

/** A message the lexer reports, placed like relayd's yyerror: the file and line being read. */
export interface LexError {
  file: string
  line: number
  message: string
}

const EOF = -1
const START_EXPAND = -2
const DONE_EXPAND = -3
/** relayd's token buffer is 8096 bytes. */
const MAX_TOKEN = 8096

interface Source {
  eofReached: boolean
  line: number
  name: string
  pos: number
  text: string
  unget: number[]
}

const isDigit = (c: number) => c >= 48 && c <= 57
const isAlpha = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
const isAlnum = (c: number) => isDigit(c) || isAlpha(c)
const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13)
const isPunct = (c: number) => (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)
const ENDS_NUMBER = new Set([')', ',', '/', '}', '='].map((s) => s.codePointAt(0)!))
const NOT_IN_STRING = new Set(['(', ')', '{', '}', '<', '>', '!', '=', '#', ',', '/'].map((s) => s.codePointAt(0)!))

/**
 * relayd.conf's lexer, a port of parse.y's yylex/lgetc: newlines are tokens, `#` comments,
 * backslash-newline continuation, quoted strings with relayd's escapes, numbers that must end
 * at whitespace or `) , / } =`, words that become keywords unless quoted, `$macro` expansion at
 * token start (pushed back and re-read, not recursive) and nested `include` files.
 */
export class Lexer {
  readonly errors: LexError[] = []
  /** Macros defined so far; the parser adds them as it reads `name = value` lines. */
  readonly macros = new Map<string, {used: boolean; value: string}>()
  private expanding = false
  private readonly files: Source[] = []
  private tokenLine = 1

  constructor(name: string, text: string) {
    this.files.push({eofReached: false, line: 1, name, pos: 0, text, unget: []})
  }

  /** The file being read (an included one while inside it). */
  get file(): string {
    return this.current.name
  }

  /** How many files are open: 1 for the main file, one more per nested include. */
  get depth(): number {
    return this.files.length
  }

  /** The line of the token read last: where relayd's yyerror places a message. */
  get line(): number {
    return this.tokenLine
  }

  private get current(): Source {
    return this.files.at(-1)!
  }

  /** Starts reading an included file, as parse.y's `include` action does (line numbering included). */
  include(name: string, text: string): void {
    this.files.push({eofReached: false, line: 0, name, pos: 0, text, unget: []})
    this.unget('\n'.codePointAt(0)!)
  }

  /** Reads the next token. */
  next(): Token {
    for (;;) {
      let c: number
      let buf = ''
      do c = this.lgetc(0)
      while (c === 32 || c === 9)
      this.tokenLine = this.current.line
      const file = this.current.name
      if (c === 35 /* # */) {
        do c = this.lgetc(0)
        while (c !== 10 && c !== EOF)
      }

      if (c === 36 /* $ */ && !this.expanding) {
        for (;;) {
          c = this.lgetc(0)
          if (c === EOF) return {file, kind: 'eof', line: this.tokenLine}
          if (buf.length + 1 >= MAX_TOKEN - 1) return this.error('string too long')
          if (isAlnum(c) || c === 95) {
            buf += String.fromCodePoint(c)
            continue
          }

          this.unget(c)
          break
        }

        const macro = this.macros.get(buf)
        if (macro === undefined) return this.error(`macro '${buf}' not defined`)
        macro.used = true
        this.unget(DONE_EXPAND)
        for (let i = macro.value.length - 1; i >= 0; i--) this.unget(macro.value.codePointAt(i)!)
        this.unget(START_EXPAND)
        continue
      }

      if (c === 39 || c === 34) return this.quoted(c)

      if (c === 45 /* - */ || isDigit(c)) {
        const digits: number[] = []
        do digits.push(c)
        while ((c = this.lgetc(0)) !== EOF && isDigit(c))
        this.unget(c)
        const lone = digits.length === 1 && digits[0] === 45
        if (!lone && (c === EOF || isSpace(c) || ENDS_NUMBER.has(c))) {
          const text = String.fromCodePoint(...digits)
          const value = Number(text)
          if (!Number.isSafeInteger(value)) {
            this.error(`"${text}" invalid number: ${value < 0 ? 'too small' : 'too large'}`)
            return {file, kind: 'error', line: this.tokenLine}
          }

          return {file, kind: 'number', line: this.tokenLine, value}
        }

        for (let i = digits.length - 1; i >= 1; i--) this.unget(digits[i])
        c = digits[0]
        if (c === 45) return {file, kind: 'char', line: this.tokenLine, value: '-'}
      }

      if (isAlnum(c) || c === 58 /* : */ || c === 95 /* _ */) {
        do {
          buf += String.fromCodePoint(c)
          if (buf.length >= MAX_TOKEN) return this.error('string too long')
        } while ((c = this.lgetc(0)) !== EOF && (isAlnum(c) || (isPunct(c) && !NOT_IN_STRING.has(c))))
        this.unget(c)
        return KEYWORDS.has(buf) ? {file, kind: 'keyword', line: this.tokenLine, value: buf} : {file, kind: 'string', line: this.tokenLine, quoted: false, value: buf}
      }

      if (c === 10) {
        this.tokenLine = this.current.line
        this.current.line++
      }

      if (c === EOF) return {file, kind: 'eof', line: this.tokenLine}
      return {file, kind: 'char', line: this.tokenLine, value: String.fromCodePoint(c)}
    }
  }

  /** Skips to the end of the line, as relayd's findeol does after a lexer error. */
  private error(message: string): Token {
    this.errors.push({file: this.current.name, line: this.tokenLine, message})
    const file = this.current.name
    for (;;) {
      const c = this.lgetc(0)
      if (c === 10) {
        this.current.line++
        break
      }

      if (c === EOF) break
    }

    return {file, kind: 'error', line: this.tokenLine}
  }

  private igetc(): number {
    for (;;) {
      const source = this.current
      const c = source.unget.length > 0 ? source.unget.pop()! : source.pos < source.text.length ? source.text.codePointAt(source.pos++)! : EOF
      if (c > 0xFF_FF) source.pos++ // astral code points take two UTF-16 units
      if (c === START_EXPAND) this.expanding = true
      else if (c === DONE_EXPAND) this.expanding = false
      else return c
    }
  }

  private lgetc(quote: number): number {
    if (quote) {
      const c = this.igetc()
      if (c === EOF) {
        this.errors.push({file: this.current.name, line: this.tokenLine, message: 'reached end of file while parsing quoted string'})
        if (this.files.length === 1 || !this.popFile()) return EOF
        return quote
      }

      return c
    }

    let c: number
    while ((c = this.igetc()) === 92 /* \ */) {
      const next = this.igetc()
      if (next !== 10) {
        c = next
        break
      }

      this.tokenLine = this.current.line
      this.current.line++
    }

    if (c === EOF) {
      // A fake end of line at the first EOF keeps line counts right for a last line without one.
      if (!this.current.eofReached) {
        this.current.eofReached = true
        return 10
      }

      while (c === EOF) {
        if (this.files.length === 1 || !this.popFile()) return EOF
        c = this.igetc()
      }
    }

    return c
  }

  private popFile(): boolean {
    this.files.pop()
    return this.files.length > 0
  }

  private quoted(quote: number): Token {
    const file = this.current.name
    let buf = ''
    for (;;) {
      let c = this.lgetc(quote)
      if (c === EOF) return {file, kind: 'eof', line: this.tokenLine}
      if (c === 10) {
        this.current.line++
        continue
      }

      if (c === 92 /* \ */) {
        const next = this.lgetc(quote)
        if (next === EOF) return {file, kind: 'eof', line: this.tokenLine}
        if (next === quote || next === 32 || next === 9) c = next
        else if (next === 10) {
          this.current.line++
          continue
        } else this.unget(next)
      } else if (c === quote) {
        break
      } else if (c === 0) {
        return this.error('syntax error')
      }

      if (buf.length + 1 >= MAX_TOKEN - 1) return this.error('string too long')
      buf += String.fromCodePoint(c)
    }

    return {file, kind: 'string', line: this.tokenLine, quoted: true, value: buf}
  }

  private unget(c: number): void {
    if (c !== EOF) this.current.unget.push(c)
  }
}
