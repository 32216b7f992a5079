import {readFileSync} from 'node:fs'
import {chmod, mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {createSecureContext, createServer, type SecureContext, type Server} from 'node:tls'

/**
 * relayd runs only on OpenBSD. This stand-in keeps what `tls deploy` depends on: a `relayctl`
 * script (show sessions from a count the test sets, `reload` counted in a file, show summary
 * listing the relays active) and a TLS listener that, like relayd, loads the keypair
 * `NAME.crt` / `private/NAME.key` at start and again only after a reload.
 */
/** Writes a keypair where relayd reads it: `SSL_DIR/NAME.crt` (0644) and `SSL_DIR/private/NAME.key` (0600). */
export async function writeRelaydKeypair(sslDir: string, name: string, keypair: {cert: string; key: string}): Promise<void> {
  await mkdir(join(sslDir, 'private'), {recursive: true})
  await writeFile(join(sslDir, `${name}.crt`), keypair.cert, {mode: 0o644})
  await writeFile(join(sslDir, 'private', `${name}.key`), keypair.key, {mode: 0o600})
}

export interface FakeRelayd {
  bin: string
  close(): Promise<void>
  /** How many times `relayctl reload` ran. */
  reloads(): number
  setSessions(count: number): Promise<void>
  /** While false, a reload is acknowledged but the old keypair stays loaded (a relayd that failed to load it). */
  loadOnReload: boolean
}

export async function startFakeRelayd(dir: string, options: {domain: string; port: number; relays: string[]; sslDir: string}): Promise<FakeRelayd> {
  const bin = join(dir, 'fake-relayd-bin')
  await mkdir(bin, {recursive: true})
  const state = join(dir, 'fake-relayd-state')
  await mkdir(state, {recursive: true})
  await writeFile(join(state, 'sessions'), '0\n')
  await writeFile(join(state, 'reloads'), '')
  const summary = options.relays.map((name, i) => `${i + 1}   \\trelay   \\t${name.padEnd(24)}\\t       \\tactive`).join('\\n')
  await writeFile(
    join(bin, 'relayctl'),
    `#!/bin/sh
case "$*" in
  "show sessions")
    n=$(cat "${state}/sessions"); i=0
    while [ "$i" -lt "$n" ]; do i=$((i+1)); printf 'session 0:%s 192.0.2.%s:5000 -> 10.0.0.10:5280\\tRUNNING\\n\\tage 00:01:02, idle 00:00:01, relay 1, pid 4242\\n' "$i" "$i"; done ;;
  "show summary")
    printf 'Id  \\tType    \\tName                    \\tAvlblty\\tStatus\\n${summary}\\n' ;;
  reload)
    echo reload >> "${state}/reloads" ;;
  *) echo "relayctl stand-in: unknown command $*" >&2; exit 1 ;;
esac
`,
  )
  await chmod(join(bin, 'relayctl'), 0o755)

  const load = (): SecureContext =>
    createSecureContext({cert: readFileSync(join(options.sslDir, `${options.domain}.crt`)), key: readFileSync(join(options.sslDir, 'private', `${options.domain}.key`))})
  const reloads = () => readFileSync(join(state, 'reloads'), 'utf8').split('\n').filter(Boolean).length
  let context = load()
  let seen = 0
  const fake: FakeRelayd = {
    bin,
    async close() {
      await new Promise((resolve) => server.close(resolve))
    },
    loadOnReload: true,
    reloads,
    async setSessions(count) {
      await writeFile(join(state, 'sessions'), `${count}\n`)
    },
  }
  const server: Server = createServer({
    SNICallback(_name, callback) {
      const now = reloads()
      if (now !== seen && fake.loadOnReload) context = load()
      seen = now
      callback(null, context)
    },
  })
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve))
  return fake
}
