import { type Command, InvalidArgumentError } from 'commander';
import type { Config } from '../../config/config';
import { action } from '../action';
import { printTable } from '../table';

type UsersFileModule = typeof import('../../web/users-file');

const ROLE_NAMES = ['viewer', 'operator', 'admin'] as const;

function roleOption(value: string): (typeof ROLE_NAMES)[number] {
  const role = ROLE_NAMES.find((name) => name === value);
  if (!role) throw new InvalidArgumentError(`expected one of ${ROLE_NAMES.join(', ')}`);
  return role;
}

/** WEB_USERS_FILE, or an error saying how to set it. */
function usersFileOf(config: Config): string {
  const file = config.web.auth.usersFile;
  if (!file)
    throw new Error(
      'WEB_USERS_FILE is not set: set it to the file that holds the users (e.g. WEB_USERS_FILE=.tickflow/users.json) for this command and the scheduler',
    );
  return file;
}

/** The users file as it is now, the module that reads and writes it, and a lookup naming what to do. */
async function openUsersFile(config: Config) {
  const file = usersFileOf(config);
  const users: UsersFileModule = await import('../../web/users-file');
  const current = users.readUsersFile(file);
  const existing = (name: string) => {
    const user = current.users[name];
    if (!user)
      throw new Error(
        `no user "${name}" in ${file}: add it first (\`tickflow users add ${name} --role viewer\`)`,
      );
    return user;
  };
  return { file, users, current, existing };
}

/**
 * `tickflow users add|token|list|remove`: the people who may use the web UI and the API, each with
 * a role, in WEB_USERS_FILE (a running scheduler picks changes up within a second).
 */
export function registerUsers(program: Command): void {
  const users = program
    .command('users')
    .description('manage who may use the web UI and the API (WEB_USERS_FILE): roles viewer, operator, admin');

  users
    .command('add')
    .description(
      'add a user, or change a user’s role and password; the password is asked for (read from standard input when that is not a terminal)',
    )
    .argument('<name>', 'user name: letters, digits, . _ @ -')
    .requiredOption(
      '-r, --role <role>',
      'viewer (reads), operator (also pause/resume, trigger, backfill, cancel, re-run) or admin (everything)',
      roleOption,
    )
    .action(
      action(async ({ config }, name: string, options: { role: (typeof ROLE_NAMES)[number] }) => {
        const file = usersFileOf(config);
        const users: UsersFileModule = await import('../../web/users-file');
        if (!users.USER_NAME.test(name))
          throw new Error(`"${name}" cannot name a user: use letters, digits, . _ @ - (no :), at most 64`);
        const password = await readPassword(`password for ${name}: `);
        if (password.length < users.MIN_PASSWORD)
          throw new Error(`the password must have at least ${users.MIN_PASSWORD} characters`);
        const current = users.readUsersFile(file);
        const existing = current.users[name];
        current.users[name] = {
          ...existing,
          role: options.role,
          password: await users.hashPassword(password),
        };
        users.writeUsersFile(file, current);
        console.log(`${existing ? 'updated' : 'added'} ${name} (${options.role}) in ${file}`);
        return 0;
      }),
    );

  users
    .command('token')
    .description(
      "issue a user's API token (Authorization: Bearer …); replaces the previous one. Shown once: only its hash is kept",
    )
    .argument('<name>', 'an existing user')
    .action(
      action(async ({ config }, name: string) => {
        const { file, users, current, existing } = await openUsersFile(config);
        const user = existing(name);
        const token = users.newToken();
        current.users[name] = {
          ...user,
          token: users.hashToken(token),
          tokenCreatedAt: new Date().toISOString(),
        };
        users.writeUsersFile(file, current);
        process.stderr.write(
          `token for ${name} (${user.role}); it is not stored and will not be shown again:\n`,
        );
        console.log(token);
        return 0;
      }),
    );

  users
    .command('list')
    .description('list the users, their roles and whether each has a password and a token')
    .action(
      action(async ({ config }) => {
        const file = usersFileOf(config);
        const { readUsersFile } = await import('../../web/users-file');
        const rows = Object.entries(readUsersFile(file).users).map(([name, user]) => [
          name,
          user.role,
          user.password ? 'yes' : 'no',
          user.token ? `since ${user.tokenCreatedAt ?? '?'}` : 'no',
        ]);
        if (rows.length === 0)
          console.log(`no users in ${file} yet: \`tickflow users add <name> --role <role>\``);
        else printTable(['USER', 'ROLE', 'PASSWORD', 'TOKEN'], rows);
        return 0;
      }),
    );

  users
    .command('remove')
    .description('remove a user: their password and token stop working within a second')
    .argument('<name>', 'an existing user')
    .action(
      action(async ({ config }, name: string) => {
        const { file, users, current, existing } = await openUsersFile(config);
        existing(name);
        delete current.users[name];
        users.writeUsersFile(file, current);
        console.log(`removed ${name} from ${file}`);
        return 0;
      }),
    );
}

/** From the terminal without echo; else the first line of standard input (a script, a pipe). */
async function readPassword(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let text = '';
    for await (const chunk of stdin) text += chunk;
    return text.split(/\r?\n/)[0] ?? '';
  }
  const first = await readHidden(prompt);
  const again = await readHidden('again: ');
  if (first !== again) throw new Error('the two passwords differ');
  return first;
}

function readHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let text = '';
    const done = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(text);
    };
    const onData = (chunk: string) => {
      for (const character of chunk) {
        if (character === '\r' || character === '\n' || character === '\u0004') return done();
        if (character === '\u0003') return done(new Error('cancelled'));
        if (character === '\u007f' || character === '\b') text = text.slice(0, -1);
        else text += character;
      }
    };
    stdin.on('data', onData);
  });
}
