import {expect} from 'chai'

import {formatDiagnostic, lintRelaydConf} from '../../src/relayd/lint.js'
import {RELAYD_INPUT_LIMITS} from '../../src/relayd/parser.js'

const TABLE = 'table <t> { 10.0.0.1 }\n'
const RELAY = 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to <t> port 80 check tcp\n}\n'
const lint = (text: string, files: Record<string, string> = {}) =>
  lintRelaydConf(text, {file: 'relayd.conf', readFile: (path) => files[path]}).map((d) => formatDiagnostic(d))

describe('relayd linter', () => {
  it('reports several errors in one run, each at its line, like relayd', () => {
    const text = 'interval x\ntable <t> { 10.0.0.1 }\nbogus line\n' + RELAY.replace('port 80 ', 'port 70000 ') + 'relay "r2" {\n}\n'
    expect(lint(text)).to.deep.equal([
      'relayd.conf:1: syntax error',
      'relayd.conf:3: syntax error',
      'relayd.conf:6: invalid port: 70000',
      // relayopts_l needs one option: an empty block is a syntax error, not "has no listener".
      'relayd.conf:9: syntax error',
    ])
  })

  it('names an included file and counts its own lines', () => {
    const files = {'tables.conf': 'table <t> { 10.0.0.1 }\n\ntable <t> { 10.0.0.2 }\n'}
    expect(lint('include "tables.conf"\n' + RELAY, files)).to.deep.equal(['tables.conf:3: table t defined twice'])
  })

  it('prints load-time findings without a line, after the placed ones', () => {
    expect(lint('interval 5\ntimeout 1000\nbogus\ntable <t> { 10.0.0.1 }\n')).to.deep.equal([
      'relayd.conf:3: syntax error',
      'relayd.conf: no actions, nothing to do',
    ])
  })

  it('refuses a relay table of more than 32 hosts, which relayd -n lets through', () => {
    const hosts = Array.from({length: 33}, (_, i) => `10.0.0.${i + 1}`).join(', ')
    const [finding] = lintRelaydConf(`table <t> { ${hosts} }\n${RELAY}`, {file: 'relayd.conf'})
    expect(finding).to.include({line: 4, rule: 'relay-max-hosts', severity: 'error'})
    expect(lint(`table <t> { ${hosts.replace(', 10.0.0.33', '')} }\n${RELAY}`)).to.deep.equal([])
  })

  it('refuses a protocol rule whose table a relay using the protocol does not forward to', () => {
    const text = 'table <t> { 10.0.0.1 }\ntable <x> { 10.0.0.2 }\nhttp protocol "p" {\n\tmatch request path "/x" forward to <x>\n}\n' + RELAY.replace('\tforward', '\tprotocol "p"\n\tforward')
    const [finding] = lintRelaydConf(text, {file: 'relayd.conf'})
    expect(finding).to.include({line: 4, rule: 'rule-table', severity: 'error'})
    expect(finding.message).to.include('relay r has no "forward to <x>"')
    expect(lint(text.replace('check tcp\n', 'check tcp\n\tforward to <x> port 81\n'))).to.deep.equal([])
  })

  it('refuses ":" in a table name: relayd cuts table names there', () => {
    const [finding] = lintRelaydConf('table <a:b> { 10.0.0.1 }\n' + RELAY.replace('<t>', '<a:b>'), {file: 'relayd.conf'})
    expect(finding).to.include({line: 1, rule: 'table-name', severity: 'error'})
  })

  it('warns about globals after the first section and unused protocols', () => {
    const findings = lintRelaydConf('table <t> { 10.0.0.1 }\nprefork 4\nprotocol "spare"\n' + RELAY, {file: 'relayd.conf'})
    expect(findings.map((d) => [d.line, d.rule, d.severity])).to.deep.equal([
      [2, 'globals-order', 'warning'],
      [3, 'unused-protocol', 'warning'],
    ])
    expect(formatDiagnostic(findings[1])).to.equal('relayd.conf:3: warning: unused protocol: spare')
  })

  it('sizes the check timeout against the interval that is current where each table is defined', () => {
    // The table copies timeout 200 (the default) before `timeout 6000` is read; interval 10 s.
    expect(lint('table <t> { 10.0.0.1 }\ntimeout 6000\n' + RELAY).filter((l) => !l.includes('warning'))).to.deep.equal([])
    expect(lint('timeout 6000\ninterval 5\ntable <t> { 10.0.0.1 }\n' + RELAY)).to.deep.equal([
      // relayd prints this one unplaced; jproxy points at the last `timeout` line.
      'relayd.conf:1: global timeout exceeds interval',
      'relayd.conf:6: table timeout exceeds interval: t:80',
    ])
  })

  it('a lexer error on the first token, or while a line is skipped, is a finding at its line, not a crash', () => {
    const errors = (text: string) => lint(text).filter((l) => !l.endsWith('no actions, nothing to do'))
    expect(errors('$ext_addr = "192.0.2.1"\n')).to.deep.equal(["relayd.conf:1: macro 'ext_addr' not defined"])
    expect(errors('$foo')).to.deep.equal(["relayd.conf:1: macro 'foo' not defined"])
    expect(errors('99999999999999999999\n')).to.deep.equal(['relayd.conf:1: "99999999999999999999" invalid number: too large'])
    expect(errors('table <t> { $x }\n$y\n')).to.deep.equal(["relayd.conf:1: macro 'x' not defined", "relayd.conf:2: macro 'y' not defined"])
  })

  it('an include of itself, a cycle or endless fan-out stops at the depth and count bounds, reported once at the including line', () => {
    const files = {'a.conf': 'include "b.conf"\n', 'b.conf': '\ninclude "a.conf"\n', 'self.conf': 'include "self.conf"\n', 'two.conf': 'include "two.conf"\ninclude "two.conf"\n'}
    const depth = RELAYD_INPUT_LIMITS.includeDepth
    expect(lint('include "self.conf"\n' + TABLE + RELAY, files)).to.deep.equal([`self.conf:1: failed to include file self.conf (includes nested more than ${depth} deep)`])
    expect(lint('include "a.conf"\n' + TABLE + RELAY, files)).to.deep.equal([`a.conf:1: failed to include file b.conf (includes nested more than ${depth} deep)`])
    let reads = 0
    const counted = (path: string) => (++reads, files[path as keyof typeof files])
    const fanOut = lintRelaydConf('include "two.conf"\n' + TABLE + RELAY, {file: 'relayd.conf', readFile: counted}).map((d) => formatDiagnostic(d))
    expect(fanOut).to.have.length(1)
    expect(fanOut[0]).to.match(/^two\.conf:\d: failed to include file two\.conf \(includes nested more than \d+ deep\)$/)
    expect(reads).to.be.at.most(RELAYD_INPUT_LIMITS.includes)
  })

  it('stops reading includes past the total input bound, and says why a file was not read', () => {
    const big = `# ${'x'.repeat(RELAYD_INPUT_LIMITS.fileBytes - 3)}\n`
    const text = Array.from({length: 5}, (_, i) => `include "big${i}.conf"\n`).join('') + TABLE + RELAY
    const files = Object.fromEntries(Array.from({length: 5}, (_, i) => [`big${i}.conf`, big]))
    const total = RELAYD_INPUT_LIMITS.totalBytes / 1024 / 1024
    // The main file and big0..big2 fit; big3 would pass the bound; big4 is not read after it.
    expect(lint(text, files)).to.deep.equal([`relayd.conf:4: failed to include file big3.conf (input over ${total} MiB in all)`])
    const refused = lintRelaydConf('include "/dev/zero"\n' + RELAY, {file: 'relayd.conf', readFile: () => ({reason: 'not a regular file'})})
    expect(refused.map((d) => formatDiagnostic(d))).to.include('relayd.conf:1: failed to include file /dev/zero (not a regular file)')
  })
})
