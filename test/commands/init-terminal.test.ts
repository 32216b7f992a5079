import {expect} from 'chai'
import {type ChildProcess, spawn} from 'node:child_process'
import {mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {ExitCode} from '../../src/errors.js'
import {BIN, CLI_TIMEOUT_MS} from '../support/cli.js'

const DOMAIN_Q = 'Public name of the Jitsi Meet site'
const LISTEN_Q = 'IPv4 address the proxy listens on'
const WEB_Q = 'Web node (nginx with jitsi-meet) address[:port]'
const PROSODY_Q = "The shard's prosody address[:port]"
const JVB_Q = "The shard's videobridge address"

/**
 * `jproxy init` on a real pseudo-terminal (script(1) from bsdutils): the test answers each
 * question only once it is on screen, so what is asked again, and when, is what a person sees.
 */
class Terminal {
  output = ''
  readonly exited: Promise<number>
  private readonly child: ChildProcess
  private waiters: Array<() => void> = []

  constructor(args: string[]) {
    const command = [process.execPath, BIN, 'init', ...args].map((word) => `'${word}'`).join(' ')
    this.child = spawn('script', ['-qec', command, '/dev/null'], {env: {...process.env, JPROXY_INVENTORY: ''}, stdio: ['pipe', 'pipe', 'inherit']})
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.output += chunk.toString()
      for (const wake of this.waiters) wake()
    })
    this.exited = new Promise((resolve) => this.child.on('close', (code, signal) => resolve(code ?? (signal ? -1 : 0))))
    // A hang bound for the whole session, not a speed claim.
    const timer = setTimeout(() => this.child.kill('SIGKILL'), CLI_TIMEOUT_MS)
    void this.exited.then(() => clearTimeout(timer))
  }

  /** Resolves once `text` has appeared `times` times in the output (the prompt itself, or its repeat). */
  async waitFor(text: string, times = 1): Promise<void> {
    const seen = () => this.output.split(text).length - 1 >= times
    while (!seen()) {
      const more = await Promise.race([new Promise<boolean>((resolve) => this.waiters.push(() => resolve(true))), this.exited.then(() => false)])
      if (!more && !seen()) throw new Error(`exited before "${text}" (x${times}) appeared:\n${this.output}`)
    }
  }

  type(keys: string): void {
    this.child.stdin!.write(keys)
  }
}

async function missing(file: string): Promise<void> {
  await stat(file).then(
    () => expect.fail(`${file} was written`),
    (error: NodeJS.ErrnoException) => expect(error.code).to.equal('ENOENT'),
  )
}

describe('jproxy init on a terminal', function () {
  this.timeout(2 * CLI_TIMEOUT_MS)
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-init-tty-'))
  })
  afterEach(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('asks again for each answer the inventory would refuse, and lower-cases a mixed-case domain in file names', async () => {
    const file = join(dir, 'asked.yaml')
    const tty = new Terminal(['-i', file])
    await tty.waitFor(DOMAIN_Q)
    tty.type('\n')
    await tty.waitFor('an empty name is not a fully qualified domain name')
    await tty.waitFor(DOMAIN_Q, 2)
    tty.type('meet example\n')
    await tty.waitFor(DOMAIN_Q, 3)
    tty.type('Meet.Example.ORG\n')
    await tty.waitFor(LISTEN_Q)
    tty.type('300.1.2.3\n')
    await tty.waitFor('300.1.2.3 is not an IPv4 address')
    await tty.waitFor(LISTEN_Q, 2)
    tty.type('192.0.2.10\n')
    await tty.waitFor(WEB_Q)
    tty.type('10.0.0.2:99999\n')
    await tty.waitFor('port 99999 is not between 1 and 65535')
    await tty.waitFor(WEB_Q, 2)
    tty.type('10.0.0.2:8080\n')
    await tty.waitFor(PROSODY_Q)
    tty.type('300.1.2.3\n')
    await tty.waitFor('300.1.2.3 is not an IP address or a hostname')
    await tty.waitFor(PROSODY_Q, 2)
    tty.type('10.0.0.10\n')
    await tty.waitFor(JVB_Q)
    tty.type('\n')
    expect(await tty.exited, tty.output).to.equal(0)
    expect(tty.output).to.include(`wrote ${file}: 1 web node, 1 shard, 0 videobridge; valid`)
    const text = await readFile(file, 'utf8')
    expect(text).to.match(/^domain: Meet\.Example\.ORG /m).and.match(/^ {4}certificate: \/etc\/haproxy\/certs\/meet\.example\.org\.pem /m)
    expect(text).to.match(/^ {4}ipv4: 192\.0\.2\.10 /m).and.match(/^ {4}port: 8080 /m).and.match(/^ {4}jvbs: \[\]/m)
  })

  it('refuses an existing file before the first question', async () => {
    const file = join(dir, 'there.yaml')
    await writeFile(file, 'mine: true\n')
    const tty = new Terminal(['-i', file])
    expect(await tty.exited, tty.output).to.equal(ExitCode.initExists)
    expect(tty.output).to.include(`${file} exists; not overwritten (use --force to replace it)`)
    expect(tty.output).to.not.include(DOMAIN_Q)
    expect(await readFile(file, 'utf8')).to.equal('mine: true\n')
  })

  it('Ctrl-C at a question exits 130 at once and writes nothing', async () => {
    const file = join(dir, 'interrupted.yaml')
    const tty = new Terminal(['-i', file, '--domain', 'meet.example.org'])
    await tty.waitFor(LISTEN_Q)
    // Input stays open: the run must end on the Ctrl-C alone, not on a second one or the end of input.
    tty.type('\u0003')
    expect(await tty.exited, tty.output).to.equal(ExitCode.interrupted)
    expect(tty.output).to.include('interrupted (Ctrl-C); nothing was written')
    await missing(file)
  })

  it('Ctrl-D at a question ends input: it exits with a usage error, says so and writes nothing', async () => {
    const file = join(dir, 'ended.yaml')
    const tty = new Terminal(['-i', file])
    await tty.waitFor(DOMAIN_Q)
    tty.type('meet.example.org\n')
    await tty.waitFor(LISTEN_Q)
    tty.type('\u0004')
    expect(await tty.exited, tty.output).to.equal(ExitCode.usage)
    expect(tty.output).to.include(`input ended (Ctrl-D) before "${LISTEN_Q}" was answered; nothing was written`)
    expect(tty.output).to.not.include(WEB_Q)
    await missing(file)
  })
})
