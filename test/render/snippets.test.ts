import {expect} from 'chai'
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {applyTarget} from '../../src/apply/apply.js'
import {ExitCode, JproxyError} from '../../src/errors.js'
import {Inventory} from '../../src/inventory/schema.js'
import {lintRelaydConf} from '../../src/relayd/lint.js'
import {contextFor, includedText, loadRenderContext, SNIPPET_SLOTS} from '../../src/render/context.js'
import {generate} from '../../src/render/generate.js'
import {snippetAt} from '../../src/render/snippets.js'
import {renderTarget} from '../../src/render/targets.js'
import {validateConfig} from '../../src/render/validate-config.js'
import {runCommand} from '../../src/system/command.js'
import {fullInventory, smallInventory, snippetFixture} from '../fixtures/inventories.js'
import {selfSignedPem} from '../support/certs.js'
import {runCli} from '../support/cli.js'
import {UNPRIVILEGED} from '../support/haproxy-process.js'

const FIXTURES: Record<string, string> = {
  backends: 'backends.cfg',
  defaults: 'defaults.cfg',
  frontendHttp: 'frontend-http.cfg',
  frontendHttps: 'frontend-https.cfg',
  global: 'global.cfg',
}

describe('operator snippets in haproxy.cfg', function () {
  this.timeout(60_000)
  let dir: string
  let pem: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-snippets-'))
    pem = await selfSignedPem(dir, 'meet.example.org')
    await writeFile(join(dir, 'state'), '1\n')
  })

  after(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  /** smallInventory on this machine (certificate, state file, no privileges) with the given snippets. */
  function inventoryData(snippets: Record<string, string[]>): Record<string, any> {
    const data = smallInventory()
    data.proxy.tls = {certificate: pem, key: pem}
    data.apply = {dir: join(dir, 'apply')}
    data.targets = {haproxy: {...UNPRIVILEGED, output: join(dir, 'live.cfg'), snippets, socket: join(dir, 'admin.sock'), stateFile: join(dir, 'state')}}
    return data
  }

  it('places every slot verbatim between markers, in the fixed order, inside the right section', async () => {
    const inventory = Inventory.parse(fullInventory())
    const text = renderTarget(inventory, 'haproxy', await loadRenderContext(inventory, 'debian'))
    const lines = text.split('\n')
    const begins = SNIPPET_SLOTS.map((slot) => lines.findIndex((line) => line === `# >>> snippet ${slot} ${snippetFixture(FIXTURES[slot])}`))
    expect(begins.every((index) => index > 0), String(begins)).to.equal(true)
    expect([...begins].sort((a, b) => a - b)).to.deep.equal(begins)
    const sectionOf = (index: number) => lines.slice(0, index).findLast((line) => /^(global|defaults|frontend|backend)\b/.test(line))
    expect(sectionOf(begins[0])).to.equal('global')
    expect(sectionOf(begins[1])).to.equal('defaults')
    expect(sectionOf(begins[2])).to.equal('frontend fe_http')
    expect(sectionOf(begins[3])).to.equal('frontend fe_https')
    for (const slot of SNIPPET_SLOTS) {
      const body = (await readFile(snippetFixture(FIXTURES[slot]), 'utf8')).trimEnd()
      expect(text).to.include(`# >>> snippet ${slot} ${snippetFixture(FIXTURES[slot])}\n${body}\n# <<< snippet ${slot} ${snippetFixture(FIXTURES[slot])}\n`)
    }
  })

  it('maps a rendered line back to the snippet file and line, and nothing else', async () => {
    const inventory = Inventory.parse(fullInventory())
    const text = renderTarget(inventory, 'haproxy', await loadRenderContext(inventory, 'debian'))
    const lines = text.split('\n')
    const at = lines.indexOf('backend be_operator') + 1
    expect(snippetAt(text, at)).to.deep.equal({file: snippetFixture('backends.cfg'), line: 2, slot: 'backends'})
    expect(snippetAt(text, lines.indexOf('frontend fe_https') + 1)).to.equal(undefined)
    expect(snippetAt(text, lines.findIndex((line) => line.startsWith('# >>> snippet global')) + 1)).to.equal(undefined)
    expect(snippetAt(text, lines.findIndex((line) => line.startsWith('# <<< snippet global')) + 1)).to.equal(undefined)
  })

  it('gen is deterministic with snippets: same files, same bytes', async () => {
    const file = join(dir, 'full.yaml')
    await writeFile(file, stringify(fullInventory()))
    const [a, b] = [await generate({inventory: file, target: 'haproxy'}), await generate({inventory: file, target: 'haproxy'})]
    expect(a.sha256).to.equal(b.sha256)
    expect(a.config).to.include('backend be_operator')
  })

  it('names the inventory field and the file when a snippet is missing or unreadable', async () => {
    const missing = Inventory.parse(inventoryData({frontendHttps: [join(dir, 'nope.cfg')]}))
    const error = await loadRenderContext(missing, 'debian').catch((e: unknown) => e)
    expect(error).to.be.instanceOf(JproxyError)
    expect((error as JproxyError).exitCode).to.equal(ExitCode.inputUnreadable)
    expect((error as JproxyError).message).to.equal(`targets.haproxy.snippets.frontendHttps[0]: cannot read ${join(dir, 'nope.cfg')}: no such file`)
    await mkdir(join(dir, 'a-directory'), {recursive: true})
    const unreadable = Inventory.parse(inventoryData({global: [join(dir, 'a-directory')]}))
    expect(((await contextFor(unreadable, 'haproxy', 'debian').catch((e: unknown) => e)) as Error).message).to.match(/^targets\.haproxy\.snippets\.global\[0\]: cannot read .*a-directory: EISDIR/)
    // relayd does not place HAProxy snippets, so it does not need them.
    expect((await contextFor(unreadable, 'relayd', 'debian')).snippets.global).to.deep.equal([])
  })

  it('validate config runs haproxy -c with the snippets and reports a bad line at its own file and line', async () => {
    const good = join(dir, 'good.cfg')
    const bad = join(dir, 'bad.cfg')
    await writeFile(good, '    http-request deny if { path_beg /server-status }\n')
    await writeFile(bad, '    # rate limits\n    http-request no-such-action\n')
    const okFile = join(dir, 'ok.yaml')
    await writeFile(okFile, stringify(inventoryData({frontendHttps: [good]})))
    const accepted = await validateConfig(okFile)
    expect(accepted.haproxyCheck?.ok, JSON.stringify(accepted.haproxyCheck)).to.equal(true)
    expect(accepted.ok).to.equal(true)

    const badFile = join(dir, 'bad.yaml')
    await writeFile(badFile, stringify(inventoryData({frontendHttps: [good, bad]})))
    const refused = await validateConfig(badFile)
    expect(refused.ok).to.equal(false)
    const alert = refused.haproxyCheck!.messages.find((m) => m.level === 'alert' && m.file === bad)
    expect(alert, JSON.stringify(refused.haproxyCheck!.messages)).to.include({line: 2})
    expect(alert!.message).to.match(/no-such-action.*\(snippet frontendHttps, line \d+ of the rendered file\)/)

    const cli = await runCli(['validate', 'config', '-i', badFile])
    expect(cli.code).to.equal(ExitCode.checkFailed)
    expect(cli.stdout).to.match(new RegExp(`^${bad}:2: alert: .*no-such-action`, 'm'))
    expect((await runCli(['validate', 'config', '-i', badFile, '--no-haproxy-check'])).code).to.equal(0)

    // Without snippets haproxy -c runs only when asked.
    const plainFile = join(dir, 'plain.yaml')
    await writeFile(plainFile, stringify(inventoryData({})))
    expect(JSON.parse((await runCli(['validate', 'config', '-i', plainFile, '--json'])).stdout).haproxyCheck).to.equal(undefined)
    const forced = JSON.parse((await runCli(['validate', 'config', '-i', plainFile, '--haproxy-check', '--json'])).stdout)
    expect(forced.haproxyCheck).to.deep.include({ok: true})
  })

  it('apply refuses a config whose snippet fails haproxy -c, pointing at the snippet, and leaves the live file alone', async () => {
    const bad = join(dir, 'bad-global.cfg')
    await writeFile(bad, '    tune.no-such-setting 1\n')
    const live = join(dir, 'live.cfg')
    await writeFile(live, '# live\n')
    const report = await applyTarget({inventory: Inventory.parse(inventoryData({global: [bad]})), run: runCommand, target: 'haproxy'})
    expect(report.outcome).to.equal('check-failed')
    expect(report.exitCode).to.equal(ExitCode.checkFailed)
    expect(report.check!.messages.find((m) => m.level === 'alert' && m.file === bad), JSON.stringify(report.check)).to.include({line: 1})
    expect(await readFile(live, 'utf8')).to.equal('# live\n')
  })

  it('relayd includes each slot\'s files at its place, and jproxy\'s linter reads them (strict: clean)', async () => {
    const inventory = Inventory.parse(fullInventory())
    const context = await loadRenderContext(inventory, 'openbsd', 'relayd')
    const text = renderTarget(inventory, 'relayd', context)
    const lines = text.split('\n')
    const at = (name: string) => lines.findIndex((l) => l.trim() === `include "${snippetFixture(name)}"`)
    const [globals, tables, https, relays] = ['relayd-globals.conf', 'relayd-tables.conf', 'relayd-https.conf', 'relayd-relays.conf'].map(at)
    expect([globals, tables, https, relays].every((i) => i > 0)).to.equal(true)
    expect(globals).to.be.below(lines.findIndex((l) => l.startsWith('table ')))
    expect(tables).to.be.below(lines.indexOf('http protocol "jitsi_https" {'))
    expect(https).to.be.above(lines.indexOf('http protocol "jitsi_https" {'))
    expect(https).to.be.below(lines.indexOf('http protocol "jitsi_http" {'))
    expect(relays).to.equal(lines.findLastIndex((l) => l.trim() !== ''))
    expect(lintRelaydConf(text, {file: 'relayd.conf', readFile: includedText(context), strict: true})).to.deep.equal([])
    expect(lintRelaydConf(text, {file: 'relayd.conf', strict: true}).map((d) => d.message)).to.include(`failed to include file ${snippetFixture('relayd-globals.conf')}`)
  })

  it('gen relayd refuses an include that breaks relayd\'s grammar, naming the included file and line', async () => {
    const bad = join(dir, 'bad-relayd.conf')
    await writeFile(bad, '# operator\nmatch request frobnicate\n')
    const data = smallInventory()
    data.targets = {relayd: {snippets: {protocolHttps: [bad]}}}
    const file = join(dir, 'relayd-bad.yaml')
    await writeFile(file, stringify(data))
    const error = (await generate({inventory: file, target: 'relayd'}).catch((e: unknown) => e)) as JproxyError
    expect(error).to.be.instanceOf(JproxyError)
    expect(error.message).to.include(`${bad}:2: `)
    data.targets.relayd.snippets.protocolHttps = [join(dir, 'missing.conf')]
    await writeFile(file, stringify(data))
    expect(((await generate({inventory: file, target: 'relayd'}).catch((e: unknown) => e)) as Error).message).to.equal(`targets.relayd.snippets.protocolHttps[0]: cannot read ${join(dir, 'missing.conf')}: no such file`)
  })
})
