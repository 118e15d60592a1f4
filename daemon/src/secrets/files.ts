/**
 * File names that hold credentials by convention, whatever their content says: the path policy (wip/15-paths)
 * keeps them out of the index and the agent's tools.
 */
const SECRET_BASENAMES = new Set([
  '.npmrc', '.pypirc', '.netrc', '_netrc', '.git-credentials', '.htpasswd', '.pgpass', '.my.cnf', '.dockercfg',
  '.s3cfg', '.boto', '.vault-token', 'credentials.json', 'credentials.yml', 'credentials.yaml',
  'secrets.json', 'secrets.yml', 'secrets.yaml', 'service-account.json', 'service_account.json',
  'terraform.tfstate', 'terraform.tfstate.backup', '.terraformrc', 'terraform.rc',
  'id_rsa', 'id_dsa', 'id_ecdsa', 'id_ed25519', 'id_ecdsa_sk', 'id_ed25519_sk'
]);

const SECRET_EXTENSIONS = ['.pem', '.key', '.p12', '.pfx', '.jks', '.keystore', '.ppk', '.kdbx', '.tfvars', '.gpg'];

// Templates committed on purpose so that others know which variables to set.
const ENV_TEMPLATE = /^\.env\.(?:example|sample|template|dist|defaults)$/i;

/** Paths (in a parent directory) that are credentials: `.aws/credentials`, `.docker/config.json`, `.kube/config`. */
const SECRET_PATH_TAILS = ['.aws/credentials', '.docker/config.json', '.kube/config'];

/**
 * True for a workspace-relative (or absolute) path whose name marks it as a secret file: `.env`, `.env.local`,
 * `*.pem`, `*.key`, `id_rsa`, `.npmrc`, `credentials.json`, `client_secret_*.json`, ... `.env.example` and the
 * other env templates are not secret files (their content is still scanned like any file).
 */
export function isSecretFileName(relPath: string): boolean {
  const path = relPath.replace(/\\/g, '/');
  const base = path.slice(path.lastIndexOf('/') + 1);
  const lower = base.toLowerCase();
  if (lower === '.env' || (lower.startsWith('.env.') && !ENV_TEMPLATE.test(lower))) return true;
  if (lower.endsWith('.env') && !lower.startsWith('.')) return true; // prod.env, local.env
  if (SECRET_BASENAMES.has(lower)) return true;
  if (/^client_secret.*\.json$/.test(lower) || /^service[-_]?account.*\.json$/.test(lower)) return true;
  if (SECRET_EXTENSIONS.some((ext) => lower.endsWith(ext))) return true;
  const lowerPath = path.toLowerCase();
  return SECRET_PATH_TAILS.some((tail) => lowerPath === tail || lowerPath.endsWith('/' + tail));
}
