import {expect} from 'chai'

import {Inventory} from '../../src/inventory/schema.js'
import {formatDiagnostic, lintRelaydConf} from '../../src/relayd/lint.js'
import {renderTarget} from '../../src/render/targets.js'
import {fullInventory} from '../fixtures/inventories.js'

const forwards = (config: string) => config.split('\n').filter((l) => l.trim().startsWith('forward to <')).map((l) => l.trim())

describe('gen relayd with probe.relaydChecks', () => {
  const withChecks = () => {
    const data = fullInventory()
    data.probe.relaydChecks = true
    data.probe.relaydCheckDir = '/usr/local/libexec/jproxy'
    return renderTarget(Inventory.parse(data), 'relayd')
  }

  it('checks prosody, jicofo and every JVB with its role script; web, TURN and ACME keep their own', () => {
    expect(forwards(withChecks())).to.deep.equal([
      'forward to <web> port 80 check http "/" code 200',
      'forward to <prosody> port 5280 mode hash "jproxy:meet.example.org" check script "/usr/local/libexec/jproxy/relayd-check-prosody"',
      'forward to <jicofo> port 8888 mode hash "jproxy:meet.example.org" check script "/usr/local/libexec/jproxy/relayd-check-jicofo"',
      'forward to <colibri-jvb1> port 9090 check script "/usr/local/libexec/jproxy/relayd-check-jvb"',
      'forward to <colibri-jvb2> port 9090 check script "/usr/local/libexec/jproxy/relayd-check-jvb"',
      'forward to <colibri-jvb3> port 9090 check script "/usr/local/libexec/jproxy/relayd-check-jvb"',
      'forward to <turn> port 5349 check tcp',
      'forward to <web> port 80 check http "/" code 200',
      'forward to <acme> port 8402',
    ])
  })

  it('without it, the plain checks stay', () => {
    const config = renderTarget(Inventory.parse(fullInventory()), 'relayd')
    expect(config).to.not.include('check script')
    expect(forwards(config)).to.include('forward to <colibri-jvb1> port 9090 check tcp')
  })

  it('lints clean under lint relayd --strict', () => {
    const config = withChecks()
    expect(lintRelaydConf(config, {file: 'relayd.conf', strict: true}).map((d) => formatDiagnostic(d))).to.deep.equal([])
  })

  it('lint relayd warns about a check script that is not an absolute path (relayd runs it from /), an error with --strict', () => {
    const config = withChecks().replaceAll('check script "/usr/local/libexec/jproxy/relayd-check-jvb"', 'check script "relayd-check-jvb"')
    const findings = lintRelaydConf(config, {file: 'relayd.conf', strict: false}).filter((d) => d.rule === 'script-path')
    expect(findings).to.have.length(3)
    expect(findings[0]).to.include({severity: 'warning'})
    expect(findings[0].message).to.equal('check script "relayd-check-jvb" is not an absolute path: relayd runs it from / (a bare name through its PATH)')
    expect(lintRelaydConf(config, {file: 'relayd.conf', strict: true}).filter((d) => d.rule === 'script-path' && d.severity === 'error')).to.have.length(3)
  })

  it('a check dir that could break out of the quotes is an error naming the field', () => {
    const data = fullInventory()
    data.probe.relaydCheckDir = '/usr/local/libexec/x" check tcp'
    const parsed = Inventory.safeParse(data)
    expect(parsed.success).to.equal(false)
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).to.include('probe.relaydCheckDir')
  })
})
