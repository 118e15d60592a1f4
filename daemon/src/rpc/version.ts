/** The daemon's version is the package's, so the CLI, the extension and the daemon report one number. */
import pkg from '../../../package.json' with { type: 'json' };

export const DAEMON_VERSION: string = pkg.version;
