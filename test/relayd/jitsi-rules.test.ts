import {expect} from 'chai'

import {lintRelaydConf} from '../../src/relayd/lint.js'

const TABLES = 'table <web> { 10.0.0.11 }\ntable <xmpp> { 10.0.0.21 }\ntable <jvb1> { 10.0.1.1 }\n'

/** An http protocol "meet" with OPTIONS (one per line, from line 5), used by a relay on LISTENS forwarding with FORWARDS. */
function conf({forwards = ['<web> port 80 check tcp', '<xmpp> port 5280 mode hash "k" check tcp', '<jvb1> port 9090 check tcp'], listens = ['192.0.2.10 port 443 tls'], options = ['http websockets']} = {}): string {
  return `${TABLES}http protocol "meet" {\n${options.map((o) => `\t${o}\n`).join('')}}\nrelay "meet" {\n${listens.map((l) => `\tlisten on ${l}\n`).join('')}\tprotocol "meet"\n${forwards.map((f) => `\tforward to ${f}\n`).join('')}}\n`
}

const findings = (text: string, options: {checkFiles?: boolean; fileExists?: (p: string) => boolean; strict?: boolean} = {}) =>
  lintRelaydConf(text, {file: 'relayd.conf', ...options}).map((d) => ({line: d.line, rule: d.rule, severity: d.severity}))

describe('Jitsi lint rules', () => {
  it('relayd.md §2.4, the Jitsi-shaped example, is clean even in strict mode', () => {
    const example = `${TABLES}http protocol "meet" {
	tls keypair "meet.example.org"
	http websockets
	match request header set "X-Forwarded-For" value "$REMOTE_ADDR"
	match request path "/http-bind" forward to <xmpp>
	match request path "/xmpp-websocket" forward to <xmpp>
	match request query hash "room"
	match request path "/colibri-ws/jvb1/*" forward to <jvb1>
}
relay "meet" {
	listen on 192.0.2.10 port 443 tls
	protocol "meet"
	session timeout 3600
	forward to <web> port 80 check http "/" code 200
	forward to <xmpp> port 5280 mode hash "meet-shards" check tcp
	forward to <jvb1> port 9090 check tcp
}
`
    expect(lintRelaydConf(example, {file: 'relayd.conf', strict: true})).to.deep.equal([])
  })

  it('websockets: a websocket route without "http websockets" warns at the rule', () => {
    const rule = 'match request path "/xmpp-websocket" forward to <xmpp>'
    expect(findings(conf({options: [rule]}))).to.deep.equal([{line: 5, rule: 'websockets', severity: 'warning'}])
    expect(findings(conf({options: ['http websockets', rule]}))).to.deep.equal([])
    expect(findings(conf({options: ['match request path "/colibri-ws/jvb1/*" forward to <jvb1>']}))).to.deep.equal([{line: 5, rule: 'websockets', severity: 'warning'}])
  })

  it('hash-key: mode hash, loadbalance or source-hash without a fixed key warns at the forward line', () => {
    for (const mode of ['hash', 'loadbalance', 'source-hash']) {
      expect(findings(conf({forwards: ['<web> port 80 check tcp', `<xmpp> port 5280 mode ${mode} check tcp`]})), mode).to.deep.equal([{line: 11, rule: 'hash-key', severity: 'warning'}])
      expect(findings(conf({forwards: ['<web> port 80 check tcp', `<xmpp> port 5280 mode ${mode} "fixed" check tcp`]})), mode).to.deep.equal([])
    }

    expect(findings(conf({forwards: ['<web> port 80 mode roundrobin check tcp']}))).to.deep.equal([])
  })

  it('hash-families: a hashed relay listening on IPv4 and IPv6 warns at the relay', () => {
    const listens = ['192.0.2.10 port 443 tls', '2001:db8::10 port 443 tls']
    expect(findings(conf({listens}))).to.deep.equal([{line: 7, rule: 'hash-families', severity: 'warning'}])
    expect(findings(conf({listens: ['192.0.2.10 port 443 tls', '192.0.2.11 port 443 tls']}))).to.deep.equal([])
    expect(findings(conf({forwards: ['<web> port 80 check tcp'], listens}))).to.deep.equal([])
  })

  it('connection-close: setting "Connection: close" warns, other headers do not', () => {
    const options = ['http websockets', 'match request header set "Connection" value "close"']
    expect(findings(conf({options}))).to.deep.equal([{line: 6, rule: 'connection-close', severity: 'warning'}])
    expect(findings(conf({options: ['http websockets', 'match response header append "connection" value "Close"']}))).to.deep.equal([{line: 6, rule: 'connection-close', severity: 'warning'}])
    expect(findings(conf({options: ['http websockets', 'match request header set "X-Forwarded-Proto" value "close"']}))).to.deep.equal([])
  })

  it('colibri-exact: a colibri route must name one server-id', () => {
    for (const path of ['/colibri-ws/*', '/colibri-ws/jvb*', '/colibri-relay-ws/*/x']) {
      expect(findings(conf({options: ['http websockets', `pass request path "${path}" forward to <jvb1>`]})), path).to.deep.equal([{line: 6, rule: 'colibri-exact', severity: 'warning'}])
    }

    for (const path of ['/colibri-ws/jvb1/*', '/colibri-relay-ws/jvb1/*']) {
      expect(findings(conf({options: ['http websockets', `pass request path "${path}" forward to <jvb1>`]})), path).to.deep.equal([])
    }

    // A block rule that closes the prefix forwards nowhere, so it is not a route.
    expect(findings(conf({options: ['http websockets', 'block request path "/colibri-ws/*"']}))).to.deep.equal([])
  })

  it('keypair-files: with --check-files, names the files relayd would look for', () => {
    const text = conf({options: ['http websockets', 'tls keypair "meet.example.org"']})
    const present = (...paths: string[]) => (path: string) => paths.includes(path)
    expect(findings(text, {checkFiles: true, fileExists: present('/etc/ssl/meet.example.org.crt', '/etc/ssl/private/meet.example.org.key')})).to.deep.equal([])
    expect(findings(text, {checkFiles: true, fileExists: present('/etc/ssl/meet.example.org:443.crt', '/etc/ssl/private/meet.example.org:443.key')})).to.deep.equal([])

    const [missingKey] = lintRelaydConf(text, {checkFiles: true, file: 'relayd.conf', fileExists: present('/etc/ssl/meet.example.org.crt')})
    expect(missingKey).to.include({line: 9, rule: 'keypair-files', severity: 'warning'})
    expect(missingKey.message).to.include('reads /etc/ssl/private/meet.example.org.key').and.not.include('.crt')

    // relayd takes the key in the certificate's form: NAME:PORT.crt wants NAME:PORT.key, not NAME.key.
    const [mismatched] = lintRelaydConf(text, {checkFiles: true, file: 'relayd.conf', fileExists: present('/etc/ssl/meet.example.org:443.crt', '/etc/ssl/private/meet.example.org.key')})
    expect(mismatched.message).to.include('reads /etc/ssl/private/meet.example.org:443.key').and.not.include('.crt')

    // Without a keypair relayd uses the listen address as the name.
    const [byAddress] = lintRelaydConf(conf(), {checkFiles: true, file: 'relayd.conf', fileExists: present()})
    expect(byAddress.message).to.include('/etc/ssl/192.0.2.10:443.crt or /etc/ssl/192.0.2.10.crt and /etc/ssl/private/192.0.2.10.key')

    expect(findings(text, {fileExists: present()}), 'files are looked at only with checkFiles').to.deep.equal([])
  })

  it('strict mode turns every Jitsi warning into an error and leaves relayd\'s own warnings alone', () => {
    const text = conf({forwards: ['<web> port 80 check tcp', '<xmpp> port 5280 mode hash check tcp'], options: ['match request path "/xmpp-websocket" forward to <xmpp>']}) + 'protocol "spare"\n'
    expect(findings(text, {strict: true})).to.deep.equal([
      {line: 5, rule: 'websockets', severity: 'error'},
      {line: 11, rule: 'hash-key', severity: 'error'},
      {line: 13, rule: 'unused-protocol', severity: 'warning'},
    ])
  })
})
