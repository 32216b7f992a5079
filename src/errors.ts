/**
 * The one exit-code table. oclif owns 1 (unexpected error) and 2 (bad flags or arguments);
 * jproxy's own codes start above them. Every error jproxy throws carries `exitCode` as an
 * own property, because oclif's `catch` reads `err.exitCode` (not `err.oclif.exit`), and
 * only then does the code survive `--json`.
 */
export const ExitCode = {
  ok: 0,
  /** Unexpected failure (oclif's default). */
  failure: 1,
  /** Bad flags or arguments (oclif's parser). */
  usage: 2,
  /** The inventory file is missing, unreadable or not YAML. */
  inventoryUnreadable: 3,
  /** The inventory is YAML but breaks the schema or a cross-field rule. */
  inventoryInvalid: 4,
  /** The inventory is valid but cannot be rendered for this target. */
  renderFailed: 5,
  /** A config file failed our linter or the daemon's own checker. */
  checkFailed: 6,
  /** Writing an output file failed. */
  writeFailed: 7,
  /** A probe found a backend down (outside `--format nagios`, which has its own 0-3). */
  backendsDown: 8,
  /** A file to check (not the inventory) is missing or unreadable. */
  inputUnreadable: 9,
  /** Another apply holds the target's lock and did not finish within the wait. */
  busy: 10,
  /** A gate refused the change (no healthy member in a required pool, too many relayd sessions); nothing was touched. */
  refused: 11,
  /**
   * The new config was installed but did not reload or verify; the last-known-good one was restored and
   * verified. A `scale` change through the runtime API that did not verify: undone there too.
   */
  rolledBack: 12,
  /** Rolling back (or undoing a runtime change) failed too: the proxy may be down or running a config jproxy did not verify. */
  rollbackFailed: 13,
  /** The proxy's runtime API refused a change (add, drain, remove a server); it was undone and no file changed. */
  runtimeFailed: 14,
  /** `status` could not read the running proxy's view (stats socket or relayctl unreachable); `fleet` commands: etcd unreachable. */
  proxyUnreachable: 15,
  /** The inventory is valid, but the part a `scale` command changes cannot be changed in place (an alias); nothing was written. */
  inventoryNotEditable: 16,
  /** The new config failed after install and nothing earlier was live to restore (a first apply): it stays, unverified. */
  noRollback: 17,
  /** `init`: the inventory file is already there and `--force` was not given; nothing was asked or written. */
  initExists: 18,
  /** Ctrl-C at a question: 128 + SIGINT, what a shell reports for a run a SIGINT ended. */
  interrupted: 130,
} as const

export type ExitCodeName = keyof typeof ExitCode

/** An error with a place in the exit-code table and, optionally, structured details for `--json`. */
export class JproxyError extends Error {
  readonly exitCode: number
  readonly code: ExitCodeName
  readonly details?: unknown

  constructor(code: ExitCodeName, message: string, details?: unknown) {
    super(message)
    this.name = 'JproxyError'
    this.code = code
    this.exitCode = ExitCode[code]
    if (details !== undefined) this.details = details
  }
}
