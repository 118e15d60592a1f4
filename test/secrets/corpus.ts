/**
 * Planted secrets, built at run time from pieces and a seeded generator: nothing in the repository looks like a
 * real credential (scanners stay quiet on it), yet each value has the exact shape its rule looks for.
 * A plant is the text as it appears in a file or a message, plus the `needles`: the parts that must never be
 * found anywhere outside the machine (database rows, model requests, logs).
 */
export interface Plant {
  kind: string;
  text: string;
  needles: string[];
}

const UP = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOW = 'abcdefghijklmnopqrstuvwxyz';
const DIG = '0123456789';
const ALNUM = UP + LOW + DIG;
const HEX = '0123456789abcdef';
const B64 = ALNUM + '+/';
const B64URL = ALNUM + '-_';

export class Gen {
  private s: number;
  constructor(seed = 15) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    // xorshift32
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 0x1_0000_0000;
  }
  str(chars: string, n: number): string {
    let out = '';
    for (let i = 0; i < n; i++) out += chars[Math.floor(this.next() * chars.length)];
    // At least one digit, one upper and one lower where the alphabet has them (entropy checks want a mix).
    return out;
  }
  mixed(n: number): string {
    return this.str(UP, 2) + this.str(DIG, 2) + this.str(LOW, 2) + this.str(ALNUM, n - 6);
  }
}

const j = (...parts: string[]) => parts.join('');
const b64url = (s: string) => Buffer.from(s).toString('base64url');

/** One plant of each kind; `kinds()` lists them. */
export const KINDS: Record<string, (g: Gen) => Plant> = {
  'aws-secret-key': (g) => {
    const v = g.str(ALNUM + '/+', 40);
    return { kind: 'aws-secret-key', text: `aws_secret_access_key = "${v}"`, needles: [v] };
  },
  'gcp-service-account': (g) => {
    const body = j('MII', 'EvQIBADANBgkqhkiG9w0BAQEFAASC', g.str(B64, 200));
    const lines = body.match(/.{1,64}/g)!.join('\\n');
    const text = JSON.stringify({ type: 'service_account', project_id: 'demo-project', private_key_id: g.str(HEX, 40), private_key: `-----BEGIN ${'PRIVATE'} KEY-----\n${lines.replace(/\\n/g, '\n')}\n-----END ${'PRIVATE'} KEY-----\n`, client_email: 'svc@demo-project.iam.gserviceaccount.com' }, null, 2);
    return { kind: 'gcp-service-account', text, needles: [body.slice(30, 90)] };
  },
  'github-classic': (g) => {
    const v = j('gh', 'p_', g.mixed(36));
    return { kind: 'github-classic', text: `GITHUB_TOKEN: ${v}`, needles: [v.slice(4)] };
  },
  'github-fine-grained': (g) => {
    const v = j('github', '_pat_', g.mixed(82));
    return { kind: 'github-fine-grained', text: `token = "${v}"`, needles: [v.slice(11)] };
  },
  'slack-bot': (g) => {
    const v = j('xo', 'xb-', g.str(DIG, 12), '-', g.str(DIG, 13), '-', g.mixed(24));
    return { kind: 'slack-bot', text: `slack: ${v}`, needles: [v.slice(5)] };
  },
  'slack-webhook': (g) => {
    const tail = g.mixed(24);
    const v = j('https://hooks.', 'slack.com/services/T', g.str(UP + DIG, 9), '/B', g.str(UP + DIG, 9), '/', tail);
    return { kind: 'slack-webhook', text: `webhook ${v}`, needles: [tail] };
  },
  stripe: (g) => {
    const v = j('sk', '_live_', g.mixed(32));
    return { kind: 'stripe', text: `Stripe.apiKey = '${v}';`, needles: [v.slice(8)] };
  },
  openai: (g) => {
    const a = g.mixed(20);
    const b = g.mixed(20);
    const v = j('sk-', a, 'T3Blbk', 'FJ', b);
    return { kind: 'openai', text: `OPENAI_API_KEY=${v}`, needles: [a, b] };
  },
  anthropic: (g) => {
    const body = g.str(ALNUM, 93);
    const v = j('sk-', 'ant-api03-', body, 'AA');
    return { kind: 'anthropic', text: `const client = new Anthropic({ apiKey: "${v}" });`, needles: [body] };
  },
  'rsa-private-key': (g) => {
    const body = j('MII', 'EowIBAAKCAQEA', g.str(B64, 240));
    const pem = `-----BEGIN RSA ${'PRIVATE'} KEY-----\n${body.match(/.{1,64}/g)!.join('\n')}\n-----END RSA ${'PRIVATE'} KEY-----`;
    return { kind: 'rsa-private-key', text: pem, needles: [body.slice(20, 60)] };
  },
  'openssh-private-key': (g) => {
    const body = j('b3BlbnNzaC1rZXktdjE', 'AAAAABG5vbmUAAAAEbm9uZQ', g.str(B64, 200));
    const pem = `-----BEGIN OPENSSH ${'PRIVATE'} KEY-----\n${body.match(/.{1,70}/g)!.join('\n')}\n-----END OPENSSH ${'PRIVATE'} KEY-----`;
    return { kind: 'openssh-private-key', text: pem, needles: [body.slice(70, 130)] };
  },
  postgres: (g) => {
    const pw = g.mixed(18);
    return { kind: 'postgres', text: `DATABASE_URL=postgres://app_user:${pw}@db.internal:5432/app`, needles: [pw] };
  },
  mongodb: (g) => {
    const pw = g.mixed(16);
    return { kind: 'mongodb', text: `mongo: "mongodb+srv://admin:${pw}@cluster0.abcde.mongodb.net/prod"`, needles: [pw] };
  },
  mysql: (g) => {
    const pw = g.mixed(14);
    return { kind: 'mysql', text: `url = mysql://root:${pw}@10.0.0.5:3306/shop`, needles: [pw] };
  },
  jwt: (g) => {
    const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const payload = b64url(JSON.stringify({ sub: g.str(DIG, 10), name: 'Ana', iat: 1_700_000_000 + Math.floor(g.next() * 1e6) }));
    const sig = g.str(B64URL, 43);
    return { kind: 'jwt', text: `Authorization: Bearer ${header}.${payload}.${sig}`, needles: [sig] };
  },
  'dotenv-secret': (g) => {
    const v = g.mixed(40);
    return { kind: 'dotenv-secret', text: `APP_SECRET_KEY=${v}`, needles: [v] };
  },
  npm: (g) => {
    const v = j('np', 'm_', g.mixed(36));
    return { kind: 'npm', text: `//registry.npmjs.org/:_authToken=${v}`, needles: [v.slice(4)] };
  },
  'basic-auth-url': (g) => {
    const pw = g.mixed(16);
    return { kind: 'basic-auth-url', text: `curl https://deploy:${pw}@ci.example.com/hooks/run`, needles: [pw] };
  },
  sendgrid: (g) => {
    const a = g.mixed(22);
    const b = g.mixed(43);
    return { kind: 'sendgrid', text: `SENDGRID = "${j('S', 'G.', a, '.', b)}"`, needles: [a, b] };
  },
  twilio: (g) => {
    const v = g.str(HEX, 32);
    return { kind: 'twilio', text: `TWILIO_AUTH_TOKEN="${v}"`, needles: [v] };
  },
  gitlab: (g) => {
    const v = g.mixed(20);
    return { kind: 'gitlab', text: `gitlab token ${j('gl', 'pat-', v)}`, needles: [v] };
  },
  huggingface: (g) => {
    const v = g.str(UP + LOW, 34);
    return { kind: 'huggingface', text: `HF_TOKEN ${j('h', 'f_', v)}`, needles: [v] };
  },
  shopify: (g) => {
    const v = g.str(HEX, 32);
    return { kind: 'shopify', text: `shopify: ${j('shp', 'at_', v)}`, needles: [v] };
  },
  databricks: (g) => {
    const v = g.str(HEX, 32);
    return { kind: 'databricks', text: `host token ${j('da', 'pi', v)}`, needles: [v] };
  },
  'password-assignment': (g) => {
    const v = g.mixed(22);
    return { kind: 'password-assignment', text: `  password: "${v}"`, needles: [v] };
  },
  'api-key-assignment': (g) => {
    const v = g.mixed(32);
    return { kind: 'api-key-assignment', text: `const mapsApiKey = '${v}';`, needles: [v] };
  },
};

/** `n` plants cycling through every kind, each with fresh random parts. */
export function plants(n: number, seed = 15): Plant[] {
  const g = new Gen(seed);
  const names = Object.keys(KINDS);
  return Array.from({ length: n }, (_, i) => KINDS[names[i % names.length]!]!(g));
}

/** Every needle found in `haystack` (case-insensitive: lexemes are stored lower-cased). */
export function leaked(haystack: string, list: Plant[]): string[] {
  const hay = haystack.toLowerCase();
  const out: string[] = [];
  for (const p of list) for (const nd of p.needles) if (hay.includes(nd.toLowerCase())) out.push(`${p.kind}: ${nd.slice(0, 6)}…`);
  return out;
}
