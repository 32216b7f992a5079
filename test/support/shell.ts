import {execFile} from 'node:child_process'

/** The POSIX shells relayd's check script must run under: Debian's `dash`, and `mksh` (closest to OpenBSD's sh). */
export const SHELLS = [
  {debianPackage: 'dash', path: '/bin/dash'},
  {debianPackage: 'mksh', path: '/bin/mksh'},
] as const

/**
 * Runs `script` with `shell`, as relayd does (`execlp(path, path, host)` with cwd /), and gives
 * its exit code and output. A missing shell fails the calling test with the package to install.
 */
export function runShellScript(shell: (typeof SHELLS)[number], script: string, args: string[], timeoutMs = 15_000): Promise<{code: number; stderr: string; stdout: string}> {
  return new Promise((resolve, reject) => {
    execFile(shell.path, [script, ...args], {cwd: '/', timeout: timeoutMs}, (error, stdout, stderr) => {
      if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
        reject(new Error(`${shell.path} not found: install the Debian package ${shell.debianPackage}`))
        return
      }

      resolve({code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stderr, stdout})
    })
  })
}
