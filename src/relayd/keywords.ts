/**
 * parse.y 1.258's keyword table. An unquoted word equal to one of these is that keyword, never a
 * name: `table <http>` is a syntax error, `table <"http">` is not.
 */
export const KEYWORDS: ReadonlySet<string> = new Set([
  'agentx', 'append', 'backlog', 'backup', 'binary', 'block', 'buffer', 'ca', 'cache', 'cert', 'changes', 'check', 'checks',
  'ciphers', 'client', 'code', 'connection', 'context', 'cookie', 'demote', 'destination', 'digest', 'disable', 'ecdhe', 'edh',
  'error', 'errors', 'expect', 'external', 'file', 'forward', 'from', 'hash', 'header', 'headerlen', 'host', 'http', 'icmp',
  'include', 'inet', 'inet6', 'interface', 'interval', 'ip', 'key', 'keypair', 'label', 'least-states', 'listen', 'loadbalance',
  'log', 'lookup', 'match', 'method', 'mode', 'nat', 'no', 'nodelay', 'nothing', 'on', 'params', 'parent', 'pass', 'password',
  'path', 'pflog', 'pftag', 'port', 'prefork', 'priority', 'protocol', 'query', 'quick', 'random', 'real', 'redirect', 'relay',
  'remove', 'request', 'response', 'retry', 'return', 'roundrobin', 'route', 'router', 'rtable', 'rtlabel', 'sack', 'script',
  'send', 'session', 'set', 'socket', 'source-hash', 'splice', 'state', 'sticky-address', 'strip', 'style', 'table', 'tag',
  'tagged', 'tcp', 'tickets', 'timeout', 'tls', 'to', 'transparent', 'ttl', 'url', 'value', 'websockets', 'with',
])
