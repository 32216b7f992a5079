import {expect} from 'chai'

import {Lexer, type Token} from '../../src/relayd/lexer.js'

/** Tokens of `text` up to EOF, as `kind:value@line` with newlines shown as `NL`. */
function tokens(text: string, macros: Record<string, string> = {}): string[] {
  const lexer = new Lexer('t.conf', text)
  for (const [name, value] of Object.entries(macros)) lexer.macros.set(name, {used: false, value})
  const out: string[] = []
  for (let token: Token = lexer.next(), guard = 0; token.kind !== 'eof' && guard < 1000; token = lexer.next(), guard++) {
    if (token.kind === 'char' && token.value === '\n') out.push(`NL@${token.line}`)
    else if (token.kind === 'error') out.push(`error@${token.line}`)
    else if (token.kind === 'string') out.push(`${token.quoted ? 'quoted' : 'word'}:${token.value}@${token.line}`)
    else out.push(`${token.kind}:${token.value}@${token.line}`)
  }

  return out
}

function lexErrors(text: string): string[] {
  const lexer = new Lexer('t.conf', text)
  for (let i = 0; i < 1000 && lexer.next().kind !== 'eof'; i++);
  return lexer.errors.map((e) => `${e.file}:${e.line}: ${e.message}`)
}

describe('relayd lexer', () => {
  it('tells keywords from words, and quoting makes a keyword a word', () => {
    expect(tokens('relay meet "relay"')).to.deep.equal(['keyword:relay@1', 'word:meet@1', 'quoted:relay@1', 'NL@1'])
  })

  it('returns newlines as tokens and counts lines, with a fake newline at end of file', () => {
    expect(tokens('a\n\nb')).to.deep.equal(['word:a@1', 'NL@1', 'NL@2', 'word:b@3', 'NL@3'])
  })

  it('drops comments to the end of the line but keeps the newline', () => {
    expect(tokens('a # relay "x" {\nb')).to.deep.equal(['word:a@1', 'NL@1', 'word:b@2', 'NL@2'])
  })

  it('joins lines ending in a backslash and keeps counting them', () => {
    expect(tokens('listen \\\n on\nx')).to.deep.equal(['keyword:listen@1', 'keyword:on@2', 'NL@2', 'word:x@3', 'NL@3'])
  })

  it('reads quoted strings with escaped quotes, blanks and continuation; other escapes stay', () => {
    expect(tokens(String.raw`"a\"b" 'c\ d' "e\nf"`)).to.deep.equal([String.raw`quoted:a"b@1`, 'quoted:c d@1', String.raw`quoted:e\nf@1`, 'NL@1'])
    expect(tokens('"a\\\nb" x')).to.deep.equal(['quoted:ab@1', 'word:x@2', 'NL@2'])
  })

  it('reads numbers only when they end at a blank or one of ) , / } =', () => {
    expect(tokens('80 -1 8080,1}')).to.deep.equal(['number:80@1', 'number:-1@1', 'number:8080@1', 'char:,@1', 'number:1@1', 'char:}@1', 'NL@1'])
    expect(tokens('10.0.0.1 80a 2001:db8::1')).to.deep.equal(['word:10.0.0.1@1', 'word:80a@1', 'word:2001:db8::1@1', 'NL@1'])
  })

  it('splits words at the characters relayd does not allow in them', () => {
    expect(tokens('<web>{a,b}x=y')).to.deep.equal(['char:<@1', 'word:web@1', 'char:>@1', 'char:{@1', 'word:a@1', 'char:,@1', 'word:b@1', 'char:}@1', 'word:x@1', 'char:=@1', 'word:y@1', 'NL@1'])
  })

  it('expands a macro at token start into several tokens, without expanding inside it', () => {
    expect(tokens('table { $hosts }', {hosts: '10.0.0.1 10.0.0.2'})).to.deep.equal(['keyword:table@1', 'char:{@1', 'word:10.0.0.1@1', 'word:10.0.0.2@1', 'char:}@1', 'NL@1'])
    expect(tokens('$p', {p: '8080'})).to.deep.equal(['number:8080@1', 'NL@1'])
    expect(tokens('$a', {a: '$b', b: 'x'})).to.deep.equal(['char:$@1', 'word:b@1', 'NL@1'])
  })

  it('does not expand macros inside quotes or in the middle of a word', () => {
    expect(tokens('"$x" a$x', {x: 'y'})).to.deep.equal(['quoted:$x@1', 'word:a$x@1', 'NL@1'])
  })

  it('reports an undefined macro and skips the rest of its line', () => {
    expect(tokens('a $nope b\nc')).to.deep.equal(['word:a@1', 'error@1', 'word:c@2', 'NL@2'])
    expect(lexErrors('a $nope b\nc')).to.deep.equal(["t.conf:1: macro 'nope' not defined"])
  })

  it('reports an unterminated quoted string', () => {
    expect(lexErrors('a\n"open')).to.deep.equal(['t.conf:2: reached end of file while parsing quoted string'])
  })

  it('refuses numbers beyond 64 bits and words longer than relayd\'s buffer', () => {
    expect(lexErrors('99999999999999999999 x')).to.deep.equal(['t.conf:1: "99999999999999999999" invalid number: too large'])
    expect(lexErrors('x'.repeat(9000))).to.deep.equal(['t.conf:1: string too long'])
  })

  it('reads an included file in place, naming it and numbering its lines from 1', () => {
    const lexer = new Lexer('main.conf', 'a\nb\n')
    expect(lexer.next()).to.include({kind: 'string', value: 'a', line: 1})
    lexer.include('inc.conf', 'x\ny\n')
    const seen: string[] = []
    for (let token = lexer.next(), i = 0; token.kind !== 'eof' && i < 100; token = lexer.next(), i++) {
      if (token.kind === 'string') seen.push(`${token.file}:${token.line}:${token.value}`)
    }

    expect(seen).to.deep.equal(['inc.conf:1:x', 'inc.conf:2:y', 'main.conf:2:b'])
  })
})
