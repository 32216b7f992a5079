/**
 * Random relayd.conf files built from parse.y 1.258's grammar (relayd.md §1), for the property
 * test and the lint benchmark. Every token carries the single-token mutations the grammar
 * forbids at its place, so a test can break a valid file in a way relayd must refuse.
 */

/** How one token may be broken: removed, replaced by an unknown bare word or by a bare number, or by a given text. */
export type Mutation = 'delete' | 'number' | 'word' | {replace: string}

export interface GeneratedToken {
  forbid: Mutation[]
  /** Written without a blank before it (`<t>`). */
  glue?: boolean
  text: string
}

export type GeneratedLine = GeneratedToken[]

/** mulberry32: small, seedable, good enough to pick grammar branches. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6D_2B_79_F5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

export interface GeneratorOptions {
  /** Scales the number of tables, protocols, relays and hosts. */
  size?: number
}

const WORDS = ['web', 'xmpp', 'jvb1', 'jvb2', 'meet', 'shard_a', 'edge-1', 'b0']
const V4 = ['127.0.0.1', '10.0.0.1', '192.0.2.10', '198.51.100.7']
const V6 = ['::1', '2001:db8::10', 'fe80::1']

/** Builds one valid configuration as lines of tokens. */
export function generateConfig(random: () => number, options: GeneratorOptions = {}): GeneratedLine[] {
  const size = options.size ?? 1
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1))
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]
  const chance = (p: number) => random() < p
  const lines: GeneratedLine[] = []
  let serial = 0
  const fresh = (prefix: string) => `${pick(WORDS)}_${prefix}${serial++}`

  const t = (text: string, forbid: Mutation[] = [], glue = false): GeneratedToken => ({forbid, glue, text})
  // A keyword the grammar needs here: removing it or writing an unknown word instead is a syntax error.
  const kw = (text: string) => t(text, ['delete', 'word'])
  // A name in quotes, or bare; a number is never a name.
  const name = (text: string) => t(chance(0.5) ? `"${text}"` : text, ['delete', 'number'])
  // `<7>` is a table named 7: a number must end at a blank or one of `) , / } =`, and `>` is none.
  const tableRef = (table: string, forbid: Mutation[] = ['delete', 'word']) => [
    t('<', ['delete', 'word']),
    t(table, forbid, true),
    t('>', ['delete', 'word'], true),
  ]
  const portTokens = (port: number) => [kw('port'), t(String(port), ['delete', 'word', {replace: '70000'}, {replace: '0'}])]

  // --- macros and globals -------------------------------------------------------------------
  const macros: string[] = []
  if (chance(0.6)) {
    const macro = `addr${serial++}`
    lines.push([t(macro, ['delete', 'number']), t('=', ['delete', 'word']), t(`"${pick(V4)}"`, ['delete', 'number'])])
    macros.push(macro)
  }

  const interval = int(2, 30)
  if (chance(0.7)) lines.push([kw('interval'), t(String(interval), ['delete', 'word', {replace: '-1'}])])
  const intervalSeconds = lines.some((l) => l[0].text === 'interval') ? interval : 10
  if (chance(0.6)) lines.push([kw('timeout'), t(String(int(50, intervalSeconds * 1000 - 1)), ['delete', 'word', {replace: '-5'}, {replace: String(intervalSeconds * 1000)}])])
  if (chance(0.5)) lines.push([kw('prefork'), t(String(int(1, 32)), ['delete', 'word', {replace: '0'}, {replace: '33'}])])
  if (chance(0.4)) lines.push([kw('log'), ...pick([[kw('state'), kw('changes')], [kw('host'), kw('checks')], [kw('connection')]])])
  if (chance(0.3)) lines.push([kw('socket'), t('"/var/run/relayd.sock"', ['delete', 'number'])])

  // --- tables -------------------------------------------------------------------------------
  const tables: string[] = []
  const tableCount = int(1, 3) * size
  for (let i = 0; i < tableCount; i++) {
    const table = fresh('t')
    tables.push(table)
    const hostCount = int(1, Math.min(32, 3 * size))
    const hosts: GeneratedToken[] = []
    for (let h = 0; h < hostCount; h++) {
      if (h > 0) hosts.push(t(chance(0.5) ? ',' : ''))
      const address = chance(0.2) ? pick(V6) : `10.${i % 250}.${Math.floor(h / 250)}.${(h % 250) + 1}`
      // With one host, removing it leaves `{ }`, which the grammar refuses.
      hosts.push(t(address, hostCount === 1 ? ['delete', 'number'] : ['number']))
      if (chance(0.3)) hosts.push(kw('retry'), t(String(int(0, 5)), ['delete', 'word', {replace: '-1'}]))
      if (chance(0.2)) hosts.push(kw('priority'), t(String(int(0, 63)), ['delete', 'word', {replace: '-1'}, {replace: '64'}]))
      if (chance(0.2)) hosts.push(kw('ip'), kw('ttl'), t(String(int(1, 255)), ['delete', 'word', {replace: '-1'}]))
    }

    lines.push([kw('table'), ...tableRef(table, ['delete']), ...(chance(0.1) ? [t('disable')] : []), t('{', ['delete', 'word']), ...hosts.filter((h) => h.text !== ''), t('}', ['delete', 'word'])])
  }

  const checkTokens = (): GeneratedToken[] => {
    const http = (scheme: string) => [
      kw('check'),
      kw(scheme),
      t(`"/${pick(['', 'health', 'about/health'])}"`, ['delete', 'number']),
      ...(chance(0.4) ? [kw('host'), t('meet.example.org', ['delete', 'number'])] : []),
      ...(chance(0.7) ? [kw('code'), t(String(pick([200, 204, 301])), ['delete', 'word', {replace: '0'}])] : [kw('digest'), t(`"${'a1'.repeat(20)}"`, ['delete', {replace: '"abc"'}])]),
    ]
    return pick([
      () => [kw('check'), kw('tcp')],
      () => [kw('check'), kw('icmp')],
      () => [kw('check'), kw('tls')],
      () => http('http'),
      () => http('https'),
      () => [kw('check'), kw('send'), t('"PING\\r\\n"', ['delete', 'number']), kw('expect'), t('"PONG*"', ['delete', 'number'])],
      () => [kw('check'), t('binary', ['word']), kw('send'), t('"0a0b"', ['delete', 'number']), kw('expect'), t('"0c"', ['delete', 'number'])],
      () => [kw('check'), kw('script'), t('"/usr/local/bin/check-jvb"', ['delete', 'number'])],
    ])()
  }

  const tableOptions = (inRedirect: boolean, port: number): GeneratedToken[] => {
    const options: GeneratedToken[][] = [portTokens(port)]
    if (inRedirect || chance(0.8)) options.push(checkTokens())
    if (chance(0.4)) options.push([kw('timeout'), t(String(int(50, intervalSeconds * 1000 - 1)), ['delete', 'word', {replace: '-1'}])])
    if (chance(0.3)) options.push([kw('interval'), t(String(intervalSeconds * int(1, 3)), ['delete', 'word'])])
    if (chance(0.5)) {
      const mode = pick(inRedirect ? ['roundrobin', 'random', 'source-hash', 'least-states'] : ['roundrobin', 'random', 'source-hash', 'loadbalance', 'hash'])
      const keyed = ['hash', 'loadbalance', 'source-hash'].includes(mode)
      options.push([kw('mode'), t(mode, ['number', {replace: inRedirect ? 'hash' : 'least-states'}]), ...(keyed && chance(0.7) ? [t('"meet-shards"', ['number'])] : [])])
    }

    // Options come in any order; the first must stay (a forward needs at least one option).
    return options.sort(() => random() - 0.5).flat()
  }

  // --- protocols ----------------------------------------------------------------------------
  const relayCount = int(1, 2) * size
  const relayTables = Array.from({length: relayCount}, () => Array.from({length: int(1, 3)}, () => pick(tables)).filter((x, i, all) => all.indexOf(x) === i))
  const protocols = new Map<number, string>()
  for (let r = 0; r < relayCount; r++) {
    if (!chance(0.7)) continue
    const protocol = fresh('p')
    protocols.set(r, protocol)
    const http = chance(0.7)
    lines.push([...(http ? [t('http', ['delete', 'word'])] : chance(0.5) ? [t('tcp', ['word'])] : []), kw('protocol'), name(protocol), t('{', ['delete', 'word'])])
    if (http) lines.push([kw('http'), kw('websockets')])
    if (http && chance(0.5)) lines.push([kw('http'), kw('headerlen'), t(String(int(0, 131_072)), ['delete', 'word', {replace: '131073'}])])
    // `{` NL `}` is a syntax error (protopts_l needs one option), so every protocol gets one.
    if (!http || chance(0.5)) lines.push([kw('tcp'), t('{', ['delete']), kw('nodelay'), t(',', []), kw('sack'), t(',', []), kw('backlog'), t(String(int(0, 512)), ['delete', 'word', {replace: '513'}]), t('}', ['delete'])])
    if (chance(0.5)) lines.push([kw('tls'), kw('keypair'), t('"meet.example.org"', ['delete', 'number'])])
    if (chance(0.3)) lines.push([kw('tls'), t('no', ['word']), kw('tlsv1.2')])
    if (chance(0.3)) lines.push([kw('tls'), kw('ciphers'), t('"HIGH:!aNULL"', ['delete', 'number'])])
    if (http) {
      const ruleCount = int(1, 4)
      for (let i = 0; i < ruleCount; i++) {
        const action = pick(['pass', 'block', 'match'])
        const head = [t(action, ['delete', 'word']), ...(chance(0.5) ? [t(pick(['request', 'response']), ['word'])] : []), ...(chance(0.2) ? [t('quick', ['word'])] : [])]
        const option = pick([
          () => [kw('path'), t(`"/${pick(['http-bind', 'xmpp-websocket', 'colibri-ws/jvb1/*'])}"`, ['number'])],
          () => [kw('header'), t('set', ['word']), t('"X-Forwarded-For"', ['number']), kw('value'), t('"$REMOTE_ADDR"', ['delete', 'number'])],
          () => [kw('query'), t('hash', ['word']), t('"room"', ['number'])],
          () => [kw('method'), t(pick(['GET', 'POST', 'OPTIONS']), ['delete', 'number', {replace: 'FETCH'}])],
          () => [kw('cookie'), t('log', ['word']), t('"session"', ['number'])],
          () => [kw('url'), t('log', ['word']), t('"meet.example.org/"', ['number'])],
          () => [kw('tag'), t('"seen"', ['delete', 'number'])],
          () => [kw('label'), t('"edge"', ['delete', 'number'])],
        ])()
        // A rule may switch only to a table its relay forwards to (relayd.md §2.3).
        const route = action === 'match' && chance(0.5) ? [kw('forward'), kw('to'), ...tableRef(pick(relayTables[r]))] : []
        lines.push([...head, ...option, ...route])
      }
    }

    lines.push([t('}', ['delete', 'word'])])
  }

  // --- relays and redirects -----------------------------------------------------------------
  for (let r = 0; r < relayCount; r++) {
    const port = 8000 + r
    lines.push([kw('relay'), name(fresh('r')), t('{', ['delete', 'word'])])
    const address = macros.length > 0 && chance(0.5) ? `$${macros[0]}` : pick(V4)
    lines.push([kw('listen'), kw('on'), t(address, ['delete', 'number']), ...portTokens(port), ...(chance(0.3) ? [t('tls', ['word'])] : [])])
    const protocol = protocols.get(r)
    if (protocol !== undefined) lines.push([kw('protocol'), t(`"${protocol}"`, ['delete', 'number', 'word'])])
    if (chance(0.5)) lines.push([kw('session'), kw('timeout'), t(String(int(1, 7200)), ['delete', 'word', {replace: '-1'}])])
    for (const table of relayTables[r]) lines.push([kw('forward'), kw('to'), ...tableRef(table), ...tableOptions(false, int(1, 65_535))])
    lines.push([t('}', ['delete', 'word'])])
  }

  if (chance(0.4)) {
    lines.push([kw('redirect'), name(fresh('d')), t('{', ['delete', 'word'])])
    lines.push([kw('listen'), kw('on'), t(pick(V4), ['delete', 'number']), ...(chance(0.3) ? [t('tcp')] : []), ...portTokens(int(1, 65_535))])
    lines.push([kw('forward'), kw('to'), ...tableRef(pick(tables)), ...tableOptions(true, int(1, 65_535))])
    if (chance(0.3)) lines.push([t('sticky-address', ['word'])])
    lines.push([t('}', ['delete', 'word'])])
  }

  return lines
}

/** Writes lines as relayd.conf text, with the comments, blank lines and continuations relayd allows. */
export function renderConfig(lines: GeneratedLine[], random: () => number = () => 0.5): string {
  let text = ''
  for (const line of lines) {
    if (random() < 0.1) text += random() < 0.5 ? '\n' : '# a comment line\n'
    const first = line[0]?.text ?? ''
    let out = first === '}' || /^(table|relay|redirect|http|tcp|protocol|interval|timeout|prefork|log|socket)$/.test(first) ? '' : '\t'
    line.forEach((token, i) => {
      if (i > 0 && !token.glue) out += random() < 0.05 ? ' \\\n\t' : ' '
      out += token.text
    })
    text += out + (random() < 0.1 ? ' # trailing comment' : '') + '\n'
  }

  return text
}

/** Every single-token mutation the grammar forbids in `lines`: where and what. */
export function forbiddenMutations(lines: GeneratedLine[]): Array<{line: number; mutation: Mutation; token: number}> {
  const all: Array<{line: number; mutation: Mutation; token: number}> = []
  for (const [line, tokens] of lines.entries()) {
    for (const [token, {forbid}] of tokens.entries()) for (const mutation of forbid) all.push({line, mutation, token})
  }

  return all
}

/** A copy of `lines` with one mutation applied. */
export function mutate(lines: GeneratedLine[], at: {line: number; mutation: Mutation; token: number}): GeneratedLine[] {
  return lines.map((tokens, l) => {
    if (l !== at.line) return tokens
    const {mutation} = at
    if (mutation === 'delete') return tokens.filter((_, i) => i !== at.token)
    const text = mutation === 'word' ? 'bogus' : mutation === 'number' ? '7' : mutation.replace
    return tokens.map((token, i) => (i === at.token ? {...token, text} : token))
  })
}

/** How a mutation reads in a failure message. */
export function describeMutation(lines: GeneratedLine[], at: {line: number; mutation: Mutation; token: number}): string {
  const what = typeof at.mutation === 'string' ? at.mutation : `replace with ${at.mutation.replace}`
  return `${what} of "${lines[at.line][at.token].text}" in: ${lines[at.line].map((x) => x.text).join(' ')}`
}
