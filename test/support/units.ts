import {execFile} from 'node:child_process'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'

import {BIN, CLI_TIMEOUT_MS} from './cli.js'

/** Runs a system tool a unit test checks with; a missing one fails the test with the Debian package to install. */
export function runTool(command: string, args: string[], debianPackage: string, env?: NodeJS.ProcessEnv): Promise<{code: number; output: string}> {
  return new Promise((resolve, reject) => {
    execFile(command, args, {env, timeout: CLI_TIMEOUT_MS}, (error, stdout, stderr) => {
      if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') reject(new Error(`${command} not found: install the Debian package ${debianPackage}`))
      else resolve({code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, output: stdout + stderr})
    })
  })
}

/** `systemd-analyze verify` of a copy of `unit` whose /usr/local/bin/jproxy is this build (verify wants ExecStart's program to exist). */
export async function verifyUnit(unit: string): Promise<{code: number; output: string}> {
  const dir = await mkdtemp(join(tmpdir(), 'jproxy-unit-'))
  try {
    const copy = join(dir, basename(unit))
    await writeFile(copy, (await readFile(unit, 'utf8')).replaceAll('/usr/local/bin/jproxy', BIN))
    return await runTool('systemd-analyze', ['verify', copy], 'systemd')
  } finally {
    await rm(dir, {force: true, recursive: true})
  }
}

/*
 * A stand-in for OpenBSD's /etc/rc.d/rc.subr with the parts jproxy's rc.d scripts use: the overrides
 * rcctl would set (daemon, flags, user) come from the environment; rc_pre does nothing unless the
 * script defines its own; start runs rc_pre and starts the daemon in the background (rc_bg=YES; it
 * cannot switch to daemon_user here), check and stop find it by its exact command line as rc.subr's
 * pgrep/pkill -xf do.
 */
export const STUB_RC_SUBR = `
[ -n "$STUB_DAEMON" ] && daemon=$STUB_DAEMON
[ -n "$STUB_FLAGS" ] && daemon_flags=$STUB_FLAGS
[ -n "$STUB_USER" ] && daemon_user=$STUB_USER
rc_pre() { :; }
rc_cmd() {
	pexp="\${daemon}\${daemon_flags:+ \${daemon_flags}}"
	case $1 in
	start)
		pgrep -xf "$pexp" >/dev/null && exit 0
		rc_pre || { echo "(failed)"; exit 1; }
		[ "$rc_bg" = YES ] || { echo "rc_bg is not YES"; exit 1; }
		\${daemon} \${daemon_flags} >>"$STUB_LOG" 2>&1 </dev/null &
		echo "(ok)"; exit 0 ;;
	check)
		pgrep -xf "$pexp" >/dev/null && { echo "(ok)"; exit 0; }
		echo "(failed)"; exit 1 ;;
	stop)
		pkill -xf "$pexp" || { echo "(failed)"; exit 1; }
		while pgrep -xf "$pexp" >/dev/null; do sleep 0.1; done
		echo "(ok)"; exit 0 ;;
	esac
}
`

/** Copies the rc.d script `rcD` into `dir`, sourcing the stub rc.subr (written there too); the copy's path. */
export async function stubRcScript(rcD: string, dir: string): Promise<string> {
  const script = join(dir, basename(rcD))
  await writeFile(join(dir, 'rc.subr'), STUB_RC_SUBR)
  await writeFile(script, (await readFile(rcD, 'utf8')).replace('. /etc/rc.d/rc.subr', `. ${join(dir, 'rc.subr')}`))
  return script
}

/** Runs `script action` under mksh with the stub's overrides: the daemon is node, its flags `flags`, its output to `log`. */
export function rcAction(script: string, action: string, stub: {flags: string; log: string; user?: string}): Promise<{code: number; output: string}> {
  const env = {...process.env, STUB_DAEMON: process.execPath, STUB_FLAGS: stub.flags, STUB_LOG: stub.log, STUB_USER: stub.user ?? ''}
  return runTool('mksh', [script, action], 'mksh', env)
}
