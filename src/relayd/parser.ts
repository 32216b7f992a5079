import {addressFamily, HTTP_METHODS, isHostAddress, SERVICES} from './addresses.js'
import {Lexer, type Token} from './lexer.js'
import type {CheckKind, Diagnostic, FilterRule, KeyValue, Protocol, Relay, RelaydConfig, TableForward} from './model.js'

/** relayd.h limits used while parsing. */
const TABLE_NAME_SIZE = 64
const MAX_NAME_SIZE = 64
const HOST_NAME_SIZE = 256
const RDR_NAME_SIZE = 32
const TAG_NAME_SIZE = 64
const LABEL_NAME_SIZE = 1024
const IFNAMSIZ = 16
const PATH_MAX = 1024
const EXPECT_SIZE = 256
const PROC_MAX_INSTANCES = 32
const RELAY_MAX_BACKLOG = 512
const RELAY_MAXHEADERLENGTH = 131_072
const RTP_MAX = 63
const INT_MAX = 2_147_483_647
const TLS_FLAGS: Record<string, string[]> = {
  'cipher-server-preference': [],
  'client-renegotiation': [],
  sslv3: ['sslv3'],
  tlsv1: ['tlsv1.0', 'tlsv1.1', 'tlsv1.2', 'tlsv1.3'],
  'tlsv1.0': ['tlsv1.0'],
  'tlsv1.1': ['tlsv1.1'],
  'tlsv1.2': ['tlsv1.2'],
  'tlsv1.3': ['tlsv1.3'],
}
const ECDHE_CURVES = new Set(['P-256', 'P-384', 'P-521', 'X25519', 'prime256v1', 'secp256r1', 'secp384r1', 'secp521r1'])

/** Thrown to abandon the current line after an error has been recorded (yacc's YYERROR). */
class Abandon extends Error {}

/** Reads a file relayd would include: its text, or undefined (or why) when it cannot be read. */
export type ReadFile = (path: string) => string | undefined | {reason: string}

/**
 * How much input one lint reads. relayd itself stops only when it runs out of descriptors
 * ("failed to include file"); these bounds make a self-include, a cycle or `/dev/zero` end fast.
 */
export const RELAYD_INPUT_LIMITS = {
  /** Files open at once: the file being linted and its nested includes. */
  includeDepth: 16,
  /** Every `include` line followed, in all. */
  includes: 1024,
  /** One file (the linter's caller enforces it when reading). */
  fileBytes: 4 * 1024 * 1024,
  /** The file and everything it includes, together. */
  totalBytes: 16 * 1024 * 1024,
} as const

/**
 * A recursive-descent port of parse.y 1.258. It records errors with relayd's wording and line
 * placement, recovers at the next line (inside blocks too, so one run reports several errors),
 * and returns what it learned for the semantic pass.
 */
export class RelaydParser {
  readonly config: RelaydConfig = {
    globalTimeoutMs: 200,
    globals: [],
    intervalSeconds: 10,
    protocols: new Map(),
    redirects: [],
    relays: [],
    routers: [],
    tables: new Map(),
  }

  readonly diagnostics: Diagnostic[] = []
  private includes = 0
  private inputBytes: number
  private inputLimitHit = false
  private labelSeen = false
  private readonly lexer: Lexer
  private pending?: Token
  /** The path of the last `check script` read. */
  private scriptPath = ''
  private tableport = 0
  private tagSeen = false
  private token!: Token

  constructor(
    file: string,
    text: string,
    private readonly readFile: ReadFile = () => undefined,
  ) {
    this.lexer = new Lexer(file, text)
    this.inputBytes = Buffer.byteLength(text)
  }

  /** Parses the whole file; diagnostics and config are then filled in. */
  parse(): void {
    // A lexer error on the very first token (an undefined macro, a number out of range) ends its line like any other.
    this.advanceQuietly()
    while (!this.atEof()) {
      try {
        if (this.isChar('\n')) {
          this.advance()
          continue
        }

        this.statement()
        this.expectChar('\n')
      } catch (error) {
        if (!(error instanceof Abandon)) throw error
        this.skipLine()
      }
    }

    for (const error of this.lexer.errors) this.diagnostics.push({...error, rule: 'syntax', severity: 'error'})
  }

  // --- tokens, blocks, errors; globals, include, macro ---------------------------------------

  private advance(): void {
    if (this.pending) {
      this.token = this.pending
      this.pending = undefined
      return
    }

    this.token = this.lexer.next()
    // The lexer has reported the error and skipped the rest of the line: abandon the statement.
    if (this.token.kind === 'error') {
      this.token = {file: this.token.file, kind: 'char', line: this.token.line, value: '\n'}
      throw new Abandon()
    }
  }

  private atEof(): boolean {
    return this.token.kind === 'eof'
  }

  private bareNumber(): number {
    if (this.token.kind !== 'number') this.syntaxError()
    const {value} = this.token as {value: number}
    this.advance()
    return value
  }

  /**
   * `{ … }` of a relay, redirect, router or protocol: one option per line, at least one (a
   * protocol may also be `{ }` on one line). A bad line is reported and skipped; the block goes on,
   * which finds more than relayd (it abandons the whole block). Returns whether the block was
   * clean: the end-of-block checks would only echo an error already reported inside it.
   */
  private block(option: () => void, emptyOnOneLine = false): boolean {
    const errorsBefore = this.errorCount()
    this.expectChar('{')
    if (emptyOnOneLine && this.isChar('}')) {
      this.advance()
      return true
    }

    this.skipNewlines()
    if (this.isChar('}')) this.report('syntax error')
    while (!this.isChar('}')) {
      if (this.atEof()) this.syntaxError()
      try {
        option()
        if (this.isChar('}')) break
        this.expectChar('\n')
      } catch (error) {
        if (!(error instanceof Abandon)) throw error
        while (!this.isChar('\n') && !this.isChar('}') && !this.atEof()) this.advanceQuietly()
      }

      this.skipNewlines()
    }

    this.advance()
    return this.errorCount() === errorsBefore
  }

  private errorCount(): number {
    return this.diagnostics.length + this.lexer.errors.length
  }

  /** Advances inside error recovery, where a lexer error only ends the line being skipped. */
  private advanceQuietly(): void {
    try {
      this.advance()
    } catch (error) {
      if (!(error instanceof Abandon)) throw error
    }
  }

  private error(message: string, line = this.lexer.line, file = this.lexer.file): never {
    this.report(message, line, file)
    throw new Abandon()
  }

  /** Records an error without abandoning the line. */
  private report(message: string, line = this.lexer.line, file = this.lexer.file): void {
    this.diagnostics.push({file, line, message, rule: 'syntax', severity: 'error'})
  }

  private expectChar(c: string): void {
    if (!this.isChar(c)) this.syntaxError()
    this.advance()
  }

  private expectKeyword(keyword: string): void {
    if (!this.isKeyword(keyword)) this.syntaxError()
    this.advance()
  }

  private expectString(): string {
    if (this.token.kind !== 'string') this.syntaxError()
    const {value} = this.token as {value: string}
    this.advance()
    return value
  }

  private global(keyword: string): void {
    this.config.globals.push({file: this.lexer.file, keyword, line: this.token.line})
    this.advance()
    switch (keyword) {
      case 'agentx': {
        if (this.isKeyword('context')) {
          this.advance()
          if (this.expectString().length >= 32) this.error('agentx context too long')
        }

        if (this.isKeyword('path')) {
          this.advance()
          if (this.expectString().length >= PATH_MAX) this.error('agentx path too long')
        }

        break
      }

      case 'interval': {
        const seconds = this.bareNumber()
        if (seconds < 0) this.error(`invalid interval: ${seconds}`)
        this.config.intervalSeconds = seconds
        break
      }

      case 'log': {
        if (this.isKeyword('state')) {
          this.advance()
          this.expectKeyword('changes')
        } else if (this.isKeyword('host')) {
          this.advance()
          this.expectKeyword('checks')
        } else {
          this.expectKeyword('connection')
          if (this.isKeyword('errors')) this.advance()
        }

        break
      }

      case 'prefork': {
        const count = this.bareNumber()
        if (count <= 0 || count > PROC_MAX_INSTANCES) this.error(`invalid number of preforked relays: ${count}`)
        break
      }

      case 'socket': {
        this.expectString()
        break
      }

      case 'timeout': {
        this.config.globalTimeoutMs = this.timeout()
        break
      }
    }
  }

  private include(): void {
    this.advance()
    const path = this.expectString()
    const failed = (reason?: string): never => this.error(`failed to include file ${path}${reason ? ` (${reason})` : ''}`)
    // Past a bound, one finding says so; the same include met again (a cycle, fan-out) adds nothing.
    const overLimit = (reason: string): never => {
      if (this.inputLimitHit) throw new Abandon()
      this.inputLimitHit = true
      return failed(reason)
    }

    const limits = RELAYD_INPUT_LIMITS
    if (this.lexer.depth >= limits.includeDepth) overLimit(`includes nested more than ${limits.includeDepth} deep`)
    if (++this.includes > limits.includes) overLimit(`more than ${limits.includes} includes`)
    const text = this.readFile(path)
    if (typeof text !== 'string') return failed(text?.reason)
    this.inputBytes += Buffer.byteLength(text)
    if (this.inputBytes > limits.totalBytes) overLimit(`input over ${limits.totalBytes / 1024 / 1024} MiB in all`)
    this.lexer.include(path, text)
  }

  private isChar(c: string): boolean {
    return this.token.kind === 'char' && this.token.value === c
  }

  private isKeyword(keyword: string): boolean {
    return this.token.kind === 'keyword' && this.token.value === keyword
  }

  private macro(): void {
    const name = (this.token as {value: string}).value
    this.advance()
    this.expectChar('=')
    const value = this.expectString()
    // parse.y's loop starts looking at the second character.
    if (/\s/.test(name.slice(1))) this.error('macro name cannot contain whitespace')
    this.lexer.macros.set(name, {used: false, value})
  }

  private markSection(): void {
    this.config.firstSection ??= {file: this.lexer.file, line: this.token.line}
  }

  // --- ports, protocols and their options, redirects -------------------------------------------

  /** `port http | port NAME | port N | port A:B`; returns the first port and whether it is a range. */
  private port(): {range: boolean; value: number} {
    this.expectKeyword('port')
    if (this.isKeyword('http')) {
      this.advance()
      return {range: false, value: 80}
    }

    if (this.token.kind === 'number') {
      const value = this.bareNumber()
      if (value <= 0 || value > 65_535) this.error(`invalid port: ${value}`)
      return {range: false, value}
    }

    const text = this.expectString()
    const [first, second] = text.split(/:(.*)/s)
    const service = (name: string) => {
      if (/^\d+$/.test(name) && Number(name) <= 65_535) return Number(name)
      const known = SERVICES[name]
      if (known === undefined) this.error(`unknown port ${name}`)
      return known
    }

    if (second !== undefined) service(second)
    return {range: second !== undefined, value: service(first)}
  }

  private protocol(): void {
    this.markSection()
    let type: Protocol['type'] = 'tcp'
    if (this.isKeyword('tcp')) this.advance()
    else if (this.isKeyword('http')) {
      type = 'http'
      this.advance()
    } else if (this.token.kind === 'string') {
      const name = this.expectString()
      if (name !== 'dns') this.error(`invalid protocol type: ${name}`)
      type = 'dns'
    }

    const line = this.token.line
    const file = this.lexer.file
    this.expectKeyword('protocol')
    const name = this.expectString()
    if (name === 'default' || this.config.protocols.has(name)) this.error(`protocol ${name} defined twice`)
    if (name.length >= MAX_NAME_SIZE) this.error('protocol name truncated')
    const protocol: Protocol = {file, keypairs: [], line, name, rules: [], type, used: false, websockets: false}
    const versions = new Set(['tlsv1.2', 'tlsv1.3'])
    if (this.isChar('{')) this.block(() => this.protocolOption(protocol, versions), true)
    this.config.protocols.set(name, protocol)
    if (versions.size === 0) this.error('invalid TLS protocol')
  }

  private protocolOption(protocol: Protocol, versions: Set<string>): void {
    const forType = (allowed: boolean, message: string) => {
      if (!allowed) this.error(message)
    }

    const list = (one: () => void) => {
      if (this.isChar('{')) {
        this.advance()
        one()
        while (this.isChar(',') || this.isChar('\n')) {
          if (this.isChar(',')) this.advance()
          else this.skipNewlines()
          one()
        }

        this.expectChar('}')
      } else one()
    }

    if (this.isKeyword('tls')) {
      forType(protocol.type !== 'dns', 'can set tls options only for tcp or http protocols')
      this.advance()
      list(() => this.tlsFlag(protocol, versions))
    } else if (this.isKeyword('tcp')) {
      forType(protocol.type !== 'dns', 'can set tcp options only for tcp or http protocols')
      this.advance()
      list(() => this.tcpFlag())
    } else if (this.isKeyword('http')) {
      forType(protocol.type === 'http', 'can set http options only for http protocol')
      this.advance()
      list(() => this.httpFlag(protocol))
    } else if (this.isKeyword('return')) {
      this.advance()
      this.expectKeyword('error')
      if (this.isChar('{')) list(() => this.styleFlag())
      else if (this.isKeyword('style')) this.styleFlag()
    } else if (this.isKeyword('include')) {
      this.include()
    } else if (this.isKeyword('pass') || this.isKeyword('block') || this.isKeyword('match')) {
      protocol.rules.push(this.filterRule())
    } else this.syntaxError()
  }

  private redirect(): void {
    this.markSection()
    this.advance()
    const name = this.expectString()
    if (this.config.redirects.includes(name)) this.error(`redirection ${name} defined twice`)
    if (name.length >= RDR_NAME_SIZE) this.error(`redirection name truncated: ${name}`)
    let table: TableForward | undefined
    let backup: TableForward | undefined
    let virtualIp = false
    let rdrPort = 0
    const clean = this.block(() => {
      if (this.isKeyword('listen')) {
        this.advance()
        this.expectKeyword('on')
        const address = this.expectString()
        if (this.isKeyword('tcp')) this.advance()
        else if (this.token.kind === 'string') {
          const proto = this.expectString()
          if (!['icmp', 'tcp', 'udp'].includes(proto)) this.error(`invalid protocol: ${proto}`)
        }

        const port = this.port()
        this.optionalInterface()
        if (this.isKeyword('pflog')) this.advance()
        if (!isHostAddress(address)) this.error(`invalid virtual ip: ${address}`)
        virtualIp = true
        if (rdrPort === 0) rdrPort = port.value
        this.tableport = rdrPort
      } else if (this.isKeyword('forward') || this.isKeyword('route') || this.isKeyword('transparent')) {
        const mode = this.forwardMode()
        this.expectKeyword('to')
        const forward = this.tableSpec(true)
        const ifname = this.optionalInterface()
        if (mode === 'forward' && ifname !== undefined) this.error('superfluous interface')
        if (mode === 'route' && ifname === undefined) this.error('missing interface to route to')
        if (mode === 'transparent') this.error('no transparent forward here')
        if (ifname !== undefined && ifname.length >= IFNAMSIZ) this.error('interface name truncated')
        if (forward.check === 'none') this.error(`table ${forward.table}:${forward.port} has no check`)
        if (backup) this.error('only one backup table is allowed')
        if (table) {
          backup = forward
          if (forward.mode !== table.mode) this.error(`backup table for ${name} with different mode`)
        } else table = forward
      } else if (this.isKeyword('disable') || this.isKeyword('sticky-address')) {
        this.advance()
      } else if (this.isKeyword('match') || this.isKeyword('pftag')) {
        if (this.isKeyword('match')) this.advance()
        this.expectKeyword('pftag')
        const tag = this.expectString()
        if (tag.length >= TAG_NAME_SIZE) this.error(`redirection tag name truncated: ${tag}`)
      } else if (this.isKeyword('session')) {
        this.sessionTimeout()
      } else if (this.isKeyword('include')) {
        this.include()
      } else this.syntaxError()
    })
    this.tableport = 0
    this.config.redirects.push(name)
    if (!clean) return
    if (!table) this.error(`redirection ${name} has no table`)
    if (!virtualIp) this.error(`redirection ${name} has no virtual ip`)
    if (backup && backup.port !== table.port) this.error(`redirection ${name} uses two different ports for its table and backup table`)
  }

  // --- relays, retry, routers, session timeout; line recovery, the top-level statement ---------

  private relay(): void {
    this.markSection()
    const line = this.token.line
    const file = this.lexer.file
    this.advance()
    const name = this.expectString()
    if (name.length >= HOST_NAME_SIZE) this.error('relay name truncated')
    const relay: Relay = {file, forwards: [], line, listens: [], name}
    let target = false
    let natLookup = false
    let destination = false
    const clean = this.block(() => {
      if (this.isKeyword('listen')) {
        const listenLine = this.token.line
        this.advance()
        this.expectKeyword('on')
        const address = this.expectString()
        const port = this.port()
        let tls = false
        if (this.isKeyword('tls')) {
          this.advance()
          tls = true
        }

        if (port.range) this.error('invalid port')
        if (!isHostAddress(address)) this.error(`invalid listen ip: ${address}`)
        relay.listens.push({address, file: this.lexer.file, line: listenLine, port: port.value, tls})
        this.tableport = port.value
      } else if (this.isKeyword('forward') || this.isKeyword('route') || this.isKeyword('transparent')) {
        const mode = this.forwardMode()
        if (this.isKeyword('with')) {
          this.advance()
          this.expectKeyword('tls')
        }

        this.expectKeyword('to')
        if (this.isChar('<')) {
          relay.forwards.push(this.tableSpec(false))
        } else if (this.isKeyword('nat')) {
          this.advance()
          this.expectKeyword('lookup')
          this.retry()
          natLookup = true
        } else if (this.isKeyword('destination')) {
          this.advance()
          this.retry()
          destination = true
        } else {
          const address = this.expectString()
          if (target) this.error(`relay ${name} target or redirection already specified`)
          const port = this.port()
          this.retry()
          if (port.range) this.error('invalid port')
          if (!isHostAddress(address)) this.error(`invalid forward ip: ${address}`)
          target = true
        }

        if (this.isKeyword('inet')) this.advance()
        else if (this.isKeyword('inet6')) {
          this.advance()
          const prefix = this.expectString()
          if (addressFamily(prefix) !== 6) this.error(`invalid ipv6 address ${prefix}`)
        }

        if (mode === 'route') this.error('no route for relays')
      } else if (this.isKeyword('session')) {
        this.sessionTimeout()
      } else if (this.isKeyword('protocol')) {
        this.advance()
        const protocol = this.expectString()
        if (relay.protocol !== undefined) this.error('more than one protocol specified')
        const known = this.config.protocols.get(protocol)
        if (!known) this.error(`no such protocol: ${protocol}`)
        known.used = true
        relay.protocol = protocol
      } else if (this.isKeyword('disable')) {
        this.advance()
      } else if (this.isKeyword('include')) {
        this.include()
      } else this.syntaxError()
    })
    this.tableport = 0
    const first = relay.listens[0]
    const clash = this.config.relays.find(
      (other) => other.name === name || (first && other.listens.some((l) => l.address === first.address && l.port === first.port)),
    )
    this.config.relays.push(relay)
    if (clash) this.error(`relay ${name} or listener defined twice`)
    if (!clean) return
    if (!first) this.error(`relay ${name} has no listener`)
    if (natLookup && destination) this.error(`relay ${name} with conflicting nat lookup and peer options`)
    if (!natLookup && !destination && !target && relay.forwards.length === 0) this.error(`relay ${name} has no target, rdr, or table`)
  }

  private retry(): void {
    if (!this.isKeyword('retry')) return
    this.advance()
    const value = this.bareNumber()
    if (value < 0) this.error(`invalid retry value: ${value}`)
  }

  private router(): void {
    this.markSection()
    this.advance()
    const name = this.expectString()
    if (this.config.routers.includes(name)) this.error(`router ${name} defined twice`)
    if (name.length >= HOST_NAME_SIZE) this.error('router name truncated')
    let routes = 0
    let gateway = false
    this.tableport = -1
    const clean = this.block(() => {
      if (this.isKeyword('route')) {
        this.advance()
        this.addressPrefix()
        routes++
      } else if (this.isKeyword('forward')) {
        this.advance()
        this.expectKeyword('to')
        this.tableSpec(false)
        if (gateway) this.error(`router ${name} table already specified`)
        gateway = true
      } else if (this.isKeyword('rtable')) {
        this.advance()
        const id = this.bareNumber()
        if (id < 0 || id > 255) this.error(`invalid rtable id ${id}`)
      } else if (this.isKeyword('rtlabel')) {
        this.advance()
        if (this.expectString().length >= 32) this.error('route label truncated')
      } else if (this.isKeyword('disable')) {
        this.advance()
      } else if (this.isKeyword('include')) {
        this.include()
      } else this.syntaxError()
    })
    this.tableport = 0
    this.config.routers.push(name)
    if (clean && routes === 0) this.error(`router ${name} without routes`)
  }

  private sessionTimeout(): void {
    this.advance()
    this.expectKeyword('timeout')
    const seconds = this.bareNumber()
    if (seconds < 0) this.error(`invalid timeout: ${seconds}`)
    if (seconds > INT_MAX) this.error(`timeout too large: ${seconds}`)
  }

  /** Recovery: a lexer error met while skipping has already skipped its own line, so it ends the skip. */
  private skipLine(): void {
    while (!this.isChar('\n') && !this.atEof()) this.advanceQuietly()
    if (this.isChar('\n')) this.advanceQuietly()
  }

  private skipNewlines(): void {
    while (this.isChar('\n')) this.advance()
  }

  private statement(): void {
    const {token} = this
    if (token.kind === 'keyword') {
      switch (token.value) {
        case 'agentx':
        case 'interval':
        case 'log':
        case 'prefork':
        case 'socket':
        case 'timeout': {
          this.global(token.value)
          return
        }

        case 'http':
        case 'protocol':
        case 'tcp': {
          this.protocol()
          return
        }

        case 'include': {
          this.include()
          return
        }

        case 'redirect': {
          this.redirect()
          return
        }

        case 'relay': {
          this.relay()
          return
        }

        case 'router': {
          this.router()
          return
        }

        case 'table': {
          this.tableDefinition()
          return
        }
      }
    }

    if (token.kind === 'string') {
      // `NAME = VALUE` (a macro) or `dns protocol NAME`: one more token tells them apart.
      this.advance()
      const isMacro = this.isChar('=')
      const isProtocol = this.isKeyword('protocol')
      if (isMacro || isProtocol) {
        this.pushBack(token)
        if (isMacro) this.macro()
        else this.protocol()
        return
      }
    }

    this.syntaxError()
  }

  private syntaxError(): never {
    return this.error('syntax error')
  }

  // --- tables, hosts and checks; tcp, http, style and tls options; timeouts -------------------

  private tableDefinition(): void {
    this.markSection()
    const line = this.token.line
    const file = this.lexer.file
    this.advance()
    const name = this.tableName()
    if (this.config.tables.has(name)) this.error(`table ${name} defined twice`)
    const hosts: TableTemplateHosts = []
    let sawOption = false
    for (;;) {
      if (this.isKeyword('disable')) {
        this.advance()
      } else if (this.isChar('{')) {
        this.advance()
        this.skipNewlines()
        this.tableHosts(hosts)
        this.expectChar('}')
      } else break
      sawOption = true
    }

    if (!sawOption) this.syntaxError()
    this.config.tables.set(name, {file, hosts, line, name, timeoutMs: this.config.globalTimeoutMs})
    if (hosts.length === 0) this.error(`table ${name} has no hosts`)
  }

  private tableHosts(hosts: TableTemplateHosts): void {
    for (;;) {
      if (this.isKeyword('include')) this.include()
      else hosts.push(this.host())
      if (this.isChar(',')) {
        this.advance()
        continue
      }

      this.skipNewlines()
      if (this.isChar('}')) return
    }
  }

  private host(): TableTemplateHosts[number] {
    const line = this.token.line
    const address = this.expectString()
    if (address.length >= HOST_NAME_SIZE) this.error('host name truncated')
    if (!isHostAddress(address)) this.error(`invalid host ${address}`)
    const seen = new Set<string>()
    for (;;) {
      let flag: string | undefined
      if (this.isKeyword('retry') || this.isKeyword('parent') || this.isKeyword('priority')) {
        flag = (this.token as {value: string}).value
        this.advance()
      } else if (this.isKeyword('ip')) {
        this.advance()
        this.expectKeyword('ttl')
        flag = 'ttl'
      } else break
      const value = this.bareNumber()
      const already: Record<string, string> = {parent: 'parent value already set', priority: 'priority already set', retry: 'retry value already set', ttl: 'ttl value already set'}
      if (seen.has(flag)) this.error(already[flag])
      seen.add(flag)
      if (value < 0 || (flag === 'priority' && value > RTP_MAX)) this.error(`invalid ${flag === 'ttl' ? 'ttl' : flag} value: ${value}`)
    }

    return {address, file: this.lexer.file, line}
  }

  private tableName(): string {
    this.expectChar('<')
    const name = this.expectString()
    this.expectChar('>')
    if (name.length >= TABLE_NAME_SIZE) this.error('invalid table name')
    return name
  }

  /** `<name> OPTION…` after `forward to` / `route to`: at least one option. */
  private tableSpec(inRedirect: boolean): TableForward {
    const line = this.token.line
    const file = this.lexer.file
    const table = this.tableName()
    const forward: TableForward = {check: 'none', file, line, mode: 'roundrobin', port: 0, table}
    let options = 0
    let keySet = false
    for (;; options++) {
      if (this.isKeyword('check')) {
        this.advance()
        forward.check = this.tableCheck()
        if (forward.check === 'script') forward.script = this.scriptPath
      } else if (this.isKeyword('port')) {
        const port = this.port()
        if (port.range) this.error('invalid port')
        forward.port = port.value
      } else if (this.isKeyword('timeout')) {
        this.advance()
        forward.timeoutMs = this.timeout()
      } else if (this.isKeyword('demote')) {
        this.advance()
        if (this.expectString().length >= IFNAMSIZ) this.error('yyparse: demote group name too long')
      } else if (this.isKeyword('interval')) {
        this.advance()
        const seconds = this.bareNumber()
        const global = this.config.intervalSeconds
        if (seconds < global || seconds % global !== 0) this.error('table interval must be divisible by global interval')
      } else if (this.isKeyword('mode')) {
        this.advance()
        const modes = ['hash', 'least-states', 'loadbalance', 'random', 'roundrobin', 'source-hash']
        const mode = this.token.kind === 'keyword' && modes.includes(this.token.value) ? this.token.value : 'roundrobin'
        if (this.token.kind === 'keyword' && modes.includes(this.token.value)) this.advance()
        let key: string | undefined
        if (this.token.kind === 'string') {
          key = this.expectString()
          if (key.startsWith('0x')) {
            if (key.length !== 34) this.error('hex key must be 128 bits (32 hex digits) long')
            if (!/^0x[0-9A-Fa-f]{32}$/.test(key)) this.error('invalid hex key')
          }
        }

        const keyed = ['hash', 'loadbalance', 'source-hash'].includes(mode)
        if (keyed && keySet) this.error('key already specified')
        if (!keyed && key !== undefined) this.error('key not supported by mode')
        if (inRedirect && (mode === 'hash' || mode === 'loadbalance')) this.error('mode not supported for redirections')
        if (!inRedirect && mode === 'least-states') this.error('mode not supported for relays')
        if (keyed) keySet = true
        forward.mode = mode
        forward.hashKey = key
      } else break
    }

    if (options === 0) this.syntaxError()
    if (forward.port === 0) forward.port = this.tableport
    if (!this.config.tables.has(table)) this.error(`unknown table ${table}`, line, file)
    if (forward.port === 0) this.error('invalid port')
    if (`${table}:${forward.port}`.length >= TABLE_NAME_SIZE) this.error('invalid table name')
    return forward
  }

  private tableCheck(): CheckKind {
    if (this.isKeyword('icmp') || this.isKeyword('tcp') || this.isKeyword('tls')) {
      const kind = (this.token as {value: CheckKind}).value
      this.advance()
      return kind
    }

    if (this.isKeyword('http') || this.token.kind === 'string') {
      let kind: CheckKind = 'http'
      if (this.token.kind === 'string') {
        const word = this.expectString()
        if (word !== 'https') this.error(`invalid check type: ${word}`)
        kind = 'https'
      } else this.advance()
      this.expectString()
      if (this.isKeyword('host')) {
        this.advance()
        this.expectString()
      }

      if (this.isKeyword('code')) {
        this.advance()
        const code = this.bareNumber()
        if (code <= 0) this.error(`invalid HTTP code: ${code}`)
      } else {
        this.expectKeyword('digest')
        const digest = this.expectString()
        if (digest.length !== 40 && digest.length !== 32) this.error('invalid http digest')
      }

      return kind
    }

    if (this.isKeyword('send')) {
      this.advance()
      if (this.isKeyword('nothing')) this.advance()
      else this.expectString()
      this.expectKeyword('expect')
      const expect = this.expectString()
      if (this.isKeyword('tls')) this.advance()
      if (expect.length >= EXPECT_SIZE) this.error('yyparse: expect buffer truncated')
      return 'send'
    }

    if (this.isKeyword('binary')) {
      this.advance()
      this.expectKeyword('send')
      if (this.isKeyword('nothing')) this.advance()
      else {
        const data = this.expectString()
        if (data.length === 0) this.error('empty binary send data')
      }

      this.expectKeyword('expect')
      const expect = this.expectString()
      if (this.isKeyword('tls')) this.advance()
      if (expect.length === 0) this.error('empty binary expect data')
      if (expect.length >= EXPECT_SIZE) this.error('expect buffer truncated')
      if (!/^(?:[0-9A-Fa-f]{2})+$/.test(expect)) this.error('failed in binary expect data buffer')
      return 'binary'
    }

    if (this.isKeyword('script')) {
      this.advance()
      this.scriptPath = this.expectString()
      if (this.scriptPath.length >= PATH_MAX) this.error('script path truncated')
      return 'script'
    }

    return this.syntaxError()
  }

  private tcpFlag(): void {
    if (this.isKeyword('no')) {
      this.advance()
      if (this.isKeyword('sack') || this.isKeyword('nodelay') || this.isKeyword('splice')) this.advance()
      else this.syntaxError()
      return
    }

    if (this.isKeyword('sack') || this.isKeyword('nodelay') || this.isKeyword('splice')) {
      this.advance()
    } else if (this.isKeyword('backlog')) {
      this.advance()
      const backlog = this.bareNumber()
      if (backlog < 0 || backlog > RELAY_MAX_BACKLOG) this.error(`invalid backlog: ${backlog}`)
    } else if (this.isKeyword('socket')) {
      this.advance()
      this.expectKeyword('buffer')
      const size = this.bareNumber()
      if (size < 0) this.error(`invalid socket buffer size: ${size}`)
    } else if (this.isKeyword('ip')) {
      this.advance()
      const flag = this.expectString()
      const ttl = this.bareNumber()
      if (ttl < 0) this.error(`invalid ttl: ${ttl}`)
      if (!['minttl', 'ttl'].includes(flag.toLowerCase())) this.error(`invalid TCP/IP flag: ${flag}`)
    } else this.syntaxError()
  }

  private httpFlag(protocol: Protocol): void {
    if (this.isKeyword('headerlen')) {
      this.advance()
      const length = this.bareNumber()
      if (length < 0 || length > RELAY_MAXHEADERLENGTH) this.error(`invalid headerlen: ${length}`)
    } else if (this.isKeyword('websockets')) {
      this.advance()
      protocol.websockets = true
    } else if (this.isKeyword('no')) {
      this.advance()
      this.expectKeyword('websockets')
      protocol.websockets = false
    } else this.syntaxError()
  }

  private styleFlag(): void {
    this.expectKeyword('style')
    this.expectString()
  }

  private tlsFlag(protocol: Protocol, versions: Set<string>): void {
    const negated = this.isKeyword('no')
    if (negated) this.advance()
    if (this.isKeyword('session')) {
      this.advance()
      this.expectKeyword('tickets')
    } else if (negated && this.isKeyword('edh')) {
      this.advance()
    } else if (negated) {
      for (const version of this.tlsVersionFlag()) versions.delete(version)
    } else if (this.isKeyword('ciphers')) {
      this.advance()
      if (this.expectString().length >= 768) this.error('tlsciphers truncated')
    } else if (this.isKeyword('edh')) {
      this.advance()
      if (this.isKeyword('params')) {
        this.advance()
        const params = this.expectString()
        if (!['auto', 'legacy', 'none'].includes(params)) this.error(`tls edh params ${params}: invalid dhe param '${params}'`)
      }
    } else if (this.isKeyword('ecdhe')) {
      this.advance()
      const curves = this.expectString()
      const bad = curves === 'default' || curves === 'none' ? undefined : curves.split(/[,:]/).find((curve) => !ECDHE_CURVES.has(curve))
      if (bad !== undefined) this.error(`tls ecdhe ${curves}: invalid ecdhe curve '${bad}'`)
    } else if (this.isKeyword('ca')) {
      this.advance()
      if (this.isKeyword('file') || this.isKeyword('cert')) {
        this.advance()
        this.expectString()
      } else {
        this.expectKeyword('key')
        this.expectString()
        this.expectKeyword('password')
        this.expectString()
      }
    } else if (this.isKeyword('keypair')) {
      this.advance()
      const name = this.expectString()
      if (name.length >= PATH_MAX) this.error('keypair name too long')
      protocol.keypairs.push(name)
    } else if (this.isKeyword('client')) {
      this.advance()
      this.expectKeyword('ca')
      this.expectString()
    } else {
      for (const version of this.tlsVersionFlag()) versions.add(version)
    }
  }

  private tlsVersionFlag(): string[] {
    const flag = this.expectString()
    const versions = TLS_FLAGS[flag]
    if (versions === undefined) this.error(`invalid TLS flag: ${flag}`)
    return versions
  }

  private timeout(): number {
    const ms = this.bareNumber()
    if (ms < 0) this.error(`invalid timeout: ${ms}`)
    return ms
  }

  // --- filter rules, forward modes, small optional words, lookahead ----------------------------

  private addressPrefix(): 4 | 6 | undefined {
    const address = this.expectString()
    if (!isHostAddress(address)) this.error(`invalid host ${address}`)
    const family = addressFamily(address)
    if (this.isChar('/')) {
      this.advance()
      const length = this.bareNumber()
      if ((family === 4 && (length > 32 || length < 0)) || (family === 6 && (length > 128 || length < 0))) this.error(`invalid prefixlen ${length}`)
    }

    return family
  }

  private filterRule(): FilterRule {
    const line = this.token.line
    const file = this.lexer.file
    const action = (this.token as {value: FilterRule['action']}).value
    this.advance()
    if (this.isKeyword('request') || this.isKeyword('response')) this.advance()
    if (this.isKeyword('quick')) this.advance()
    let family: 4 | 6 | undefined
    if (this.isKeyword('inet')) {
      family = 4
      this.advance()
    } else if (this.isKeyword('inet6')) {
      family = 6
      this.advance()
    }

    let source: 4 | 6 | undefined
    let destination: 4 | 6 | undefined
    if (this.isKeyword('from')) {
      this.advance()
      source = this.addressPrefix()
    }

    if (this.isKeyword('to')) {
      this.advance()
      destination = this.addressPrefix()
    }

    const families = [family, source, destination].filter((f) => f !== undefined)
    if (new Set(families).size > 1) this.error('address family mismatch')
    const rule: FilterRule = {action, file, line}
    let tagged = false
    let tag = false
    let label = false
    let ruleFile = false
    for (;;) {
      if (this.isKeyword('method')) {
        this.advance()
        const method = this.expectString()
        if (!HTTP_METHODS.has(method)) this.error('unknown HTTP method currently not supported')
      } else if (this.isKeyword('cookie') || this.isKeyword('header') || this.isKeyword('path') || this.isKeyword('query') || this.isKeyword('url')) {
        const type = (this.token as {value: string}).value
        this.advance()
        if (type === 'path' && this.isKeyword('strip')) {
          this.advance()
          const strip = this.bareNumber()
          if (strip < 0 || strip > INT_MAX) this.error('invalid strip number')
          rule.path = {...rule.path, option: 'strip', value: String(strip)}
          continue
        }

        const kv = this.keyValue(type)
        if (type === 'header') rule.header = kv
        if (type === 'path') rule.path = kv
        if (type === 'query') rule.query = kv
      } else if (this.isKeyword('forward')) {
        this.advance()
        this.expectKeyword('to')
        const table = this.tableName()
        if (!this.config.tables.has(table)) this.error('undefined forward table')
        rule.forwardTo = table
      } else if (this.isKeyword('tag') || this.isKeyword('tagged') || this.isKeyword('label')) {
        const kind = (this.token as {value: 'label' | 'tag' | 'tagged'}).value
        this.advance()
        const name = this.expectString()
        const already = {label, tag, tagged}[kind]
        if (already) this.error(`${kind} already defined`)
        if (name.length === 0) this.error(kind === 'label' ? 'invalid label' : 'invalid tag')
        if (name.length >= (kind === 'label' ? LABEL_NAME_SIZE : TAG_NAME_SIZE)) this.error(`${kind} truncated`)
        if (kind === 'tag') tag = this.tagSeen = true
        if (kind === 'tagged') tagged = true
        if (kind === 'label') label = this.labelSeen = true
      } else if (this.isKeyword('no')) {
        this.advance()
        if (this.isKeyword('tag')) {
          this.advance()
          if (!this.tagSeen) this.error('no tag defined')
        } else {
          this.expectKeyword('label')
          if (!this.labelSeen) this.error('no label defined')
        }
      } else if (this.isKeyword('file')) {
        this.advance()
        this.expectString()
        this.optionalValue()
        if (ruleFile) this.error('only one file per rule supported')
        ruleFile = true
      } else break
    }

    return rule
  }

  private forwardMode(): 'forward' | 'route' | 'transparent' {
    if (this.isKeyword('transparent')) {
      this.advance()
      this.expectKeyword('forward')
      return 'transparent'
    }

    const mode = this.isKeyword('route') ? 'route' : 'forward'
    this.advance()
    return mode
  }

  private keyValue(type: string): KeyValue {
    const options = ['append', 'hash', 'log', 'remove', 'set']
    let option = 'none'
    if (this.token.kind === 'keyword' && options.includes(this.token.value)) {
      option = this.token.value
      this.advance()
    }

    if ((type === 'query' || type === 'url') && ['append', 'remove', 'set'].includes(option)) {
      this.error(`combining ${type} type and the given option is not supported`)
    }

    if (type === 'url' && this.isKeyword('digest')) {
      this.advance()
      const digest = this.expectString()
      if (digest.length !== 40 && digest.length !== 32) this.error('invalid http digest')
      return {key: digest, option, value: this.optionalValue()}
    }

    if (this.token.kind !== 'string') return {option}
    const key = this.expectString()
    return {key, option, value: this.optionalValue()}
  }

  private optionalInterface(): string | undefined {
    if (!this.isKeyword('interface')) return undefined
    this.advance()
    return this.expectString()
  }

  private optionalValue(): string | undefined {
    if (!this.isKeyword('value')) return undefined
    this.advance()
    return this.expectString()
  }

  /** One token of lookahead at the start of a top-level line: `saved` becomes current again. */
  private pushBack(saved: Token): void {
    this.pending = this.token
    this.token = saved
  }
}

type TableTemplateHosts = Array<{address: string; file: string; line: number}>
