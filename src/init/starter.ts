/** What a starter inventory needs to know; everything else keeps the schema's defaults. */
export interface StarterAnswers {
  /** The public name clients use. */
  domain: string
  /** One videobridge's address (its server-id is `jvb1`); none leaves the shard without one. */
  jvb?: Endpoint
  /** The proxy's IPv4 listen address. */
  listen: string
  prosody: Endpoint
  /** Which proxy runs the tier: decides where the certificate files are looked for. */
  target: 'haproxy' | 'relayd'
  web: Endpoint
}

export interface Endpoint {
  address: string
  port?: number
}

/** The paper's single-host layout: relayd on the host, one vmd guest per role at 100.64.N.3. */
export function paperAnswers(domain: string, listen: string): StarterAnswers {
  return {domain, jvb: {address: '100.64.4.3'}, listen, prosody: {address: '100.64.2.3'}, target: 'relayd', web: {address: '100.64.1.3'}}
}

/** Where each proxy reads the certificate: HAProxy one PEM holding the key; relayd its keypair files. */
function tlsPaths(answers: StarterAnswers): {certificate: string; key: string; note: string} {
  // DNS names ignore case, file names do not: Meet.Example.org's files are meet.example.org's.
  const name = answers.domain.toLowerCase()
  if (answers.target === 'relayd') {
    return {certificate: `/etc/ssl/${name}.crt`, key: `/etc/ssl/private/${name}.key`, note: "relayd's keypair for the domain"}
  }

  const pem = `/etc/haproxy/certs/${name}.pem`
  return {certificate: pem, key: pem, note: 'certificate chain and key in one PEM'}
}

const pad = (text: string, width: number) => text.padEnd(width)

/** A value as a plain YAML scalar when it is one safe token, else quoted: an answer never adds a line or a key. */
function scalar(value: string): string {
  return /^[A-Za-z0-9/][A-Za-z0-9.:_/-]*$/.test(value) ? value : JSON.stringify(value)
}

function line(text: string, comment?: string): string {
  return comment === undefined ? text : `${pad(text, 33)} # ${comment}`
}

function portLine(indent: string, endpoint: Endpoint, comment: string): string[] {
  return endpoint.port === undefined ? [] : [line(`${indent}port: ${endpoint.port}`, comment)]
}

/**
 * A commented starter inventory. Pure: the same answers give the same text. Values are written
 * as plain YAML scalars, so the caller validates the text (parseInventory) before writing it.
 */
export function starterInventory(answers: StarterAnswers, schemaUrl: string, paper = false): string {
  const tls = tlsPaths(answers)
  const lines = [
    `# yaml-language-server: $schema=${schemaUrl}`,
    paper
      ? '# The paper\'s layout ("Jitsi on OpenBSD", AsiaBSDCon 2023): relayd and pf on one OpenBSD host,\n# one vmd guest per role at 100.64.N.3 (the host side of each vmd interface is 100.64.N.2).'
      : '# A starter jproxy inventory: one web node and one shard with one videobridge.',
    '# Check it: jproxy validate config; every default filled in: jproxy validate config --effective',
    '',
    line(`domain: ${scalar(answers.domain)}`, 'the public name clients use (certificate, SNI)'),
    '',
    '# Resolvers `jproxy validate dns` asks (it never asks the system resolver unless listed here):',
    '# dns:',
    '#   internal: [10.0.0.53]          # what the proxy and the bridges use',
    '#   public: [9.9.9.9]              # what clients use, e.g. the zone\'s authoritative servers',
    '',
    'proxy:',
    '  listen:',
    line(`    ipv4: ${scalar(answers.listen)}`, 'the proxy listens here: https on 443, http (redirects) on 80'),
    '    # ipv6: 2001:db8::10',
    '  tls:',
    line(`    certificate: ${scalar(tls.certificate)}`, tls.note),
    `    key: ${scalar(tls.key)}`,
    '',
    'web:',
    '  - name: web1',
    line(`    address: ${scalar(answers.web.address)}`, 'nginx serving jitsi-meet (port 80 unless set)'),
    ...portLine('    ', answers.web, 'its http port'),
    '',
    'shards:',
    '  - name: shard1',
    '    prosody:',
    line(`      address: ${scalar(answers.prosody.address)}`, 'BOSH and XMPP websocket (port 5280 unless set)'),
    ...portLine('      ', answers.prosody, 'its http port'),
    '    # jicofo runs on the prosody host unless jicofo.address says otherwise (REST on 8888)',
  ]
  if (answers.jvb) {
    lines.push(
      '    jvbs:',
      line('      - id: jvb1', "the bridge's videobridge.websockets.server-id"),
      line(`        address: ${scalar(answers.jvb.address)}`, 'colibri websockets on 9090, REST on 8080'),
      ...(answers.jvb.port === undefined ? [] : [line(`        colibriPort: ${answers.jvb.port}`, 'its colibri websocket port')]),
    )
  } else {
    lines.push('    jvbs: []                      # add bridges with: jproxy scale add-jvb ID --address ADDRESS')
  }

  return `${lines.join('\n')}\n`
}

/** `ADDRESS`, `ADDRESS:PORT` or `[IPv6]:PORT` (a bare IPv6 literal has no port) into an endpoint. */
export function parseEndpoint(value: string): Endpoint {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(value) ?? /^([^:]+):(\d+)$/.exec(value)
  if (!match) return {address: value.replace(/^\[(.*)\]$/, '$1')}
  return {address: match[1], port: Number(match[2])}
}
