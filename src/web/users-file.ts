import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';

/**
 * The people who may use the web UI and the API (WEB_USERS_FILE), each with a role. Written by
 * `tickflow users add|token|remove`, read by the web server (again whenever the file changes).
 * Passwords are kept as scrypt hashes, API tokens as SHA-256 hashes (a token is 256 random bits:
 * a fast hash is enough); neither can be read back.
 */

/** viewer: reads; operator: also toggles, triggers, backfills, cancels and re-runs; admin: everything. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** Whether `role` may do what `needed` may. */
export const allows = (role: Role, needed: Role): boolean => RANK[role] >= RANK[needed];

/** No `:` (HTTP basic splits on the first one), nothing that needs quoting in a log or a table. */
export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const MIN_PASSWORD = 8;

const userSchema = z.strictObject({
  role: z.enum(ROLES),
  /** `scrypt$<N>$<r>$<p>$<salt, base64>$<hash, base64>` */
  password: z.string().startsWith('scrypt$').optional(),
  /** SHA-256 of the user's API token, hex. */
  token: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  tokenCreatedAt: z.string().optional(),
});
export type StoredUser = z.infer<typeof userSchema>;

const fileSchema = z.strictObject({
  users: z.record(
    z.string().regex(USER_NAME, 'expected a user name of letters, digits, . _ @ -'),
    userSchema,
  ),
});
export type UsersFile = z.infer<typeof fileSchema>;

export class UsersFileError extends Error {
  override name = 'UsersFileError';
}

/** The users in `file`; a file that does not exist yet has none. */
export function readUsersFile(file: string): UsersFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { users: {} };
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsersFileError(`${file} (WEB_USERS_FILE) is not JSON: write it with \`tickflow users add\``);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsersFileError(
      `${file} (WEB_USERS_FILE): ${issue?.path.join('.') || '(root)'}: ${issue?.message}; write it with \`tickflow users add\``,
    );
  }
  return parsed.data;
}

/** Writes the whole file at once (a reader never sees half of it), readable by its owner only. */
export function writeUsersFile(file: string, users: UsersFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(users, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(temporary, file);
}

/** scrypt cost: 2^15 × 8 × 128 bytes = 32 MiB and ~50-100 ms per hash, which is the point. */
const COST = { N: 2 ** 15, r: 8, p: 1 };
const KEY_LENGTH = 32;
const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;
const maxmemFor = (N: number, r: number) => 256 * N * r;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, KEY_LENGTH, { ...COST, maxmem: maxmemFor(COST.N, COST.r) });
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

/** A stored hash that no password matches: checked against when the user is unknown, so the time taken says nothing. */
export const NO_PASSWORD = `scrypt$${COST.N}$${COST.r}$${COST.p}$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(KEY_LENGTH).toString('base64')}`;

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  if (![cost.N, cost.r, cost.p].every(Number.isSafeInteger)) return false;
  const expected = Buffer.from(hash, 'base64');
  const given = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, {
    ...cost,
    maxmem: maxmemFor(cost.N, cost.r),
  });
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A new API token: `tf_` and 256 random bits. Shown once; only its hash is kept. */
export const newToken = (): string => `tf_${randomBytes(32).toString('base64url')}`;

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');
