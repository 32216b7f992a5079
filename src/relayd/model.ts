/** What the parser learns about a relayd.conf: enough for relayd's own checks and jproxy's lint rules. */

export type Severity = 'error' | 'warning'

/** One finding, placed as relayd places it (`FILE:LINE: message`). */
export interface Diagnostic {
  file: string
  line: number
  message: string
  rule: string
  severity: Severity
}

/** Where something was written. */
export interface Place {
  file: string
  line: number
}

export interface HostEntry extends Place {
  address: string
}

/** A `table <name> { … }` definition: a template that `forward to <name> …` instantiates. */
export interface TableTemplate extends Place {
  hosts: HostEntry[]
  name: string
  /** The global check timeout when the table was defined (relayd copies it then). */
  timeoutMs: number
}

export type CheckKind = 'binary' | 'http' | 'https' | 'icmp' | 'none' | 'script' | 'send' | 'tcp' | 'tls'

/** One `forward to <table> OPTIONS` line of a relay or redirect. */
export interface TableForward extends Place {
  check: CheckKind
  hashKey?: string
  mode: string
  port: number
  /** `check script PATH`: the script relayd runs per host. */
  script?: string
  table: string
  timeoutMs?: number
}

export interface KeyValue {
  key?: string
  option: string
  value?: string
}

/** A filter rule inside a protocol. */
export interface FilterRule extends Place {
  action: 'block' | 'match' | 'pass'
  forwardTo?: string
  header?: KeyValue
  path?: KeyValue
  query?: KeyValue
}

export interface Protocol extends Place {
  keypairs: string[]
  name: string
  rules: FilterRule[]
  type: 'dns' | 'http' | 'tcp'
  used: boolean
  websockets: boolean
}

export interface Listen extends Place {
  address: string
  port: number
  tls: boolean
}

export interface Relay extends Place {
  forwards: TableForward[]
  listens: Listen[]
  name: string
  protocol?: string
}

/** Everything parsed, for the semantic pass and the lint rules. */
export interface RelaydConfig {
  firstSection?: Place
  globalTimeoutMs: number
  globals: Array<Place & {keyword: string}>
  intervalSeconds: number
  protocols: Map<string, Protocol>
  redirects: string[]
  relays: Relay[]
  routers: string[]
  tables: Map<string, TableTemplate>
}
