import {expect} from 'chai'
import {mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {ExitCode} from '../../src/errors.js'
import {installedSchemaPath} from '../../src/inventory/json-schema.js'
import {BIN, runCli, runProgram} from '../support/cli.js'

const ANSWERS = ['--domain', 'meet.example.org', '--listen', '192.0.2.10', '--web', '10.0.0.2', '--prosody', '10.0.0.10:5281', '--jvb', '10.0.0.21']

describe('jproxy init', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-init-'))
  })
  afterEach(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('writes a commented inventory from flags that validate config accepts, with the editor schema line first', async () => {
    const file = join(dir, 'jproxy.yaml')
    const {code, stdout} = await runCli(['init', '-i', file, ...ANSWERS])
    expect(code).to.equal(0)
    expect(stdout).to.include(`wrote ${file}: 1 web node, 1 shard, 1 videobridge; valid`)
    const text = await readFile(file, 'utf8')
    expect(text.split('\n')[0]).to.equal(`# yaml-language-server: $schema=${installedSchemaPath()}`)
    expect(await stat(installedSchemaPath())).to.have.property('size').above(1000)
    expect(text).to.match(/^ {6}port: 5281 +# /m)
    expect(text).to.match(/^domain: meet\.example\.org +# the public name/m)
    const validated = await runCli(['validate', 'config', '-i', file, '--json'])
    expect(validated.code).to.equal(0)
    expect(JSON.parse(validated.stdout).summary).to.deep.equal({jvbs: 1, shards: 1, web: 1})
  })

  it('never overwrites an existing file without --force, and replaces it with --force', async () => {
    const file = join(dir, 'jproxy.yaml')
    await writeFile(file, 'mine: true\n')
    const refused = await runCli(['init', '-i', file, ...ANSWERS])
    expect(refused.code).to.equal(ExitCode.initExists)
    expect(refused.stderr).to.include(`${file} exists; not overwritten (use --force to replace it)`)
    expect(await readFile(file, 'utf8')).to.equal('mine: true\n')
    const forced = await runCli(['init', '-i', file, '--force', ...ANSWERS])
    expect(forced.code).to.equal(0)
    expect(forced.stdout).to.include(`replaced ${file}`)
    expect(await readFile(file, 'utf8')).to.include('domain: meet.example.org')
  })

  it('--from-paper writes the single-host vmd layout for relayd, which validate config --target relayd accepts', async () => {
    const file = join(dir, 'paper.yaml')
    const {code, stdout} = await runCli(['init', '--from-paper', '--domain', 'meet.example.org', '--listen', '203.0.113.10', '-i', file, '--json'])
    expect(code).to.equal(0)
    expect(JSON.parse(stdout)).to.deep.include({file, replaced: false})
    const text = await readFile(file, 'utf8')
    for (const guest of ['100.64.1.3', '100.64.2.3', '100.64.4.3']) expect(text).to.include(guest)
    expect(text).to.include('certificate: /etc/ssl/meet.example.org.crt')
    expect((await runCli(['validate', 'config', '-i', file, '--target', 'relayd'])).code).to.equal(0)
  })

  it('refuses answers that make an invalid inventory, naming each field, and writes nothing', async () => {
    const file = join(dir, 'bad.yaml')
    const {code, stderr} = await runCli(['init', '-i', file, '--domain', 'meet example', '--listen', '192.0.2.300', '--web', '10.0.0.2\nweb: x', '--prosody', '10.0.0.10'])
    expect(code).to.equal(ExitCode.inventoryInvalid)
    expect(stderr).to.match(/bad\.yaml:\d+: domain: must be a fully qualified domain name/)
    expect(stderr).to.match(/bad\.yaml:\d+: proxy\.listen\.ipv4: must be an IPv4 address/)
    expect(stderr).to.match(/bad\.yaml:\d+: web\[0\]\.address: /)
    await stat(file).then(
      () => expect.fail('a file was written'),
      (error: NodeJS.ErrnoException) => expect(error.code).to.equal('ENOENT'),
    )
  })

  it('without a terminal, names every answer it still needs instead of waiting for one', async () => {
    const {code, stderr} = await runCli(['init', '-i', join(dir, 'x.yaml'), '--domain', 'meet.example.org'])
    expect(code).to.equal(ExitCode.usage)
    expect(stderr).to.include('init needs --listen, --web, --prosody (or a terminal to ask on)')
  })

  it('on a terminal, asks for what the flags leave out, keeping answers typed ahead', async () => {
    const file = join(dir, 'asked.yaml')
    // script(1) gives jproxy a pseudo-terminal; the answers are typed ahead, all at once.
    const command = `${process.execPath} ${BIN} init -i ${file} --domain meet.example.org`
    const input = '192.0.2.10\n10.0.0.2:8080\n10.0.0.10\n\n'
    const {stdout: output} = await runProgram('script', ['-qec', command, '/dev/null'], {env: {...process.env, JPROXY_INVENTORY: ''}, input, timeoutMs: 30_000})
    expect(output).to.include('IPv4 address the proxy listens on').and.include(`wrote ${file}: 1 web node, 1 shard, 0 videobridge; valid`)
    const text = await readFile(file, 'utf8')
    expect(text).to.match(/^ {4}ipv4: 192\.0\.2\.10 /m).and.match(/^ {4}port: 8080 /m).and.match(/^ {4}jvbs: \[\]/m)
  })
})
