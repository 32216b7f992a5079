import {expect} from 'chai'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {ExitCode} from '../../src/errors.js'
import {smallInventory} from '../fixtures/inventories.js'
import {selfSignedPem} from '../support/certs.js'
import {runCli} from '../support/cli.js'

/** The 1-based line of the first line of `text` that contains `needle`: where the field is written. */
function lineWith(text: string, needle: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(needle))
  if (index === -1) throw new Error(`no line with ${needle} in:\n${text}`)
  return index + 1
}

describe('jproxy validate config: warnings about what will not work on this host', () => {
  let dir: string
  let logSocket: Server
  let pem: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-warnings-'))
    pem = await selfSignedPem(dir, 'meet.example.org')
    logSocket = createServer()
    await new Promise<void>((resolve) => logSocket.listen(join(dir, 'log.sock'), resolve))
  })
  after(async () => {
    await new Promise((resolve) => logSocket?.close(resolve))
    await rm(dir, {force: true, recursive: true})
  })

  /** Every file and socket in place, bridges in every shard, no peers: nothing to warn about. */
  function sound(): Record<string, any> {
    const data = smallInventory()
    data.proxy.tls = {ca: pem, certificate: pem, key: pem}
    data.shards.push({jvbs: [{address: '10.0.0.22', id: 'jvb2'}], name: 'shard2', prosody: {address: '10.0.0.11'}})
    data.targets = {haproxy: {logTarget: join(dir, 'log.sock')}}
    return data
  }

  /** Each warning's cause at once: a shard without bridges, three bad files, no log socket, a peers section without this host. */
  async function broken(): Promise<{file: string; text: string}> {
    const data = sound()
    data.shards[1].jvbs = []
    const certificate = join(dir, 'gone.pem')
    await writeFile(`${certificate}.key`, 'not a key\n')
    await writeFile(join(dir, 'ca.pem'), 'not a certificate\n')
    data.proxy.tls = {ca: join(dir, 'ca.pem'), certificate, key: `${certificate}.key`}
    data.proxy.peers = [
      {address: '10.0.9.1', name: 'no-such-proxy-a'},
      {address: '10.0.9.2', name: 'no-such-proxy-b'},
    ]
    data.targets.haproxy.logTarget = join(dir, 'no-log.sock')
    const text = stringify(data)
    const file = join(dir, 'broken.yaml')
    await writeFile(file, text)
    return {file, text}
  }

  /** The warnings `broken()` must produce: path, line and a part of the message each. */
  function expected(text: string): Array<{line: number; message: RegExp; path: string}> {
    return [
      {line: lineWith(text, 'jvbs: []'), message: /shard shard2 has no videobridges: every \/colibri-ws\/ request for its rooms would get 404/, path: 'shards[1].jvbs'},
      {line: lineWith(text, 'certificate: '), message: new RegExp(`${join(dir, 'gone.pem')} does not exist`), path: 'proxy.tls.certificate'},
      {line: lineWith(text, '  key: '), message: /gone\.pem\.key does not load: no private key in it/, path: 'proxy.tls.key'},
      {line: lineWith(text, '  ca: '), message: /ca\.pem does not load: no certificate in it/, path: 'proxy.tls.ca'},
      {line: lineWith(text, 'logTarget: '), message: /no socket at .*no-log\.sock \(ENOENT\): HAProxy's log lines would be lost/, path: 'targets.haproxy.logTarget'},
      {line: lineWith(text, 'peers:'), message: /this host's name ".*" is not one of proxy\.peers \(no-such-proxy-a, no-such-proxy-b\)/, path: 'proxy.peers'},
    ]
  }

  it('says nothing when every file and socket is in place and every shard has bridges', async () => {
    const file = join(dir, 'sound.yaml')
    await writeFile(file, stringify(sound()))
    const {code, stdout} = await runCli(['validate', 'config', '-i', file, '--json'])
    expect(code, stdout).to.equal(ExitCode.ok)
    expect(JSON.parse(stdout)).to.deep.include({ok: true, problems: [], warnings: []})
  })

  it('prints each warning as FILE:LINE: field: warning: message and exits 0', async () => {
    const {file, text} = await broken()
    const {code, stdout} = await runCli(['validate', 'config', '-i', file])
    expect(code, stdout).to.equal(ExitCode.ok)
    for (const {line, message, path} of expected(text)) {
      const prefix = `${file}:${line}: ${path}: warning: `
      const printed = stdout.split('\n').find((l) => l.startsWith(prefix))
      expect(printed, `${prefix} in:\n${stdout}`).to.match(message)
    }

    expect(stdout).to.include(`${file}: valid: 1 web node(s), 2 shard(s), 1 videobridge(s), 6 warning(s)`)
  })

  it('lists the warnings in --json, the report still ok', async () => {
    const {file, text} = await broken()
    const {code, stdout} = await runCli(['validate', 'config', '-i', file, '--json'])
    expect(code, stdout).to.equal(ExitCode.ok)
    const report = JSON.parse(stdout)
    expect(report.ok).to.equal(true)
    expect(report.problems).to.deep.equal([])
    const want = expected(text)
    expect(report.warnings.map((w: {line: number; path: string}) => [w.path, w.line])).to.deep.equal(want.map((w) => [w.path, w.line]))
    for (const [index, warning] of (report.warnings as Array<{message: string}>).entries()) expect(warning.message).to.match(want[index].message)
  })

  it('--strict makes each warning an error: exit 4 (inventory invalid), the same lines without "warning:"', async () => {
    const {file, text} = await broken()
    const {code, stdout} = await runCli(['validate', 'config', '-i', file, '--strict'])
    expect(code, stdout).to.equal(ExitCode.inventoryInvalid)
    expect(stdout).to.not.include('warning:')
    for (const {line, message, path} of expected(text)) {
      const prefix = `${file}:${line}: ${path}: `
      expect(stdout.split('\n').find((l) => l.startsWith(prefix)), `${prefix} in:\n${stdout}`).to.match(message)
    }

    expect(stdout).to.include(`${file}: not valid`)
    const json = JSON.parse((await runCli(['validate', 'config', '-i', file, '--strict', '--json'])).stdout)
    expect(json.ok).to.equal(false)
    expect(json.problems.map((p: {path: string}) => p.path)).to.deep.equal(expected(text).map((w) => w.path))
  })
})
