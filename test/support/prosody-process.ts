import {writeFile} from 'node:fs/promises'
import {request} from 'node:http'
import {join} from 'node:path'

import {spawnDaemon, untilReady} from './daemon.js'

/** A real prosody (Debian package) serving BOSH and XMPP websockets on a loopback port. */
export interface ProsodyProcess {
  output: () => string
  port: number
  stop: () => Promise<void>
}

/**
 * Starts prosody in the foreground with everything under `dir` (design.md: run_as_root,
 * daemonize off, only the HTTP port on 127.0.0.1, modules bosh + websocket, one anonymous host)
 * and resolves once `/http-bind` answers 200, within `timeoutMs`. A missing prosody binary
 * fails the calling test: these tests exist to run against the real server.
 */
export async function startProsody(dir: string, port: number, domain: string, timeoutMs = 15_000): Promise<ProsodyProcess> {
  const config = join(dir, 'prosody.cfg.lua')
  await writeFile(
    config,
    [
      'run_as_root = true',
      'daemonize = false',
      `pidfile = "${dir}/prosody.pid"`,
      `data_path = "${dir}"`,
      `certificates = "${dir}"`,
      `log = { { levels = { min = "error" }, to = "file", filename = "${dir}/prosody.log" } }`,
      `http_ports = { ${port} }`,
      'http_interfaces = { "127.0.0.1" }',
      'https_ports = { }',
      'c2s_ports = { }',
      's2s_ports = { }',
      'modules_enabled = { "bosh"; "websocket"; "ping" }',
      `VirtualHost "${domain}"`,
      '  authentication = "anonymous"',
      '',
    ].join('\n'),
  )
  const daemon = await spawnDaemon('prosody', ['--config', config], 'prosody', dir)
  await untilReady(daemon, 'prosody to answer /http-bind', () => boshStatus(port), (code) => code === 200, timeoutMs)
  return {output: daemon.output, port, stop: daemon.stop}
}

function boshStatus(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request({agent: false, host: '127.0.0.1', path: '/http-bind', port, timeout: 1000}, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(0))
    req.end()
  })
}
