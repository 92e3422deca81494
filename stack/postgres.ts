import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Service, waitUntilReady, type ServiceOptions } from './process';

// PostgreSQL for the production topology, on a data folder of its own: initdb once, then the
// `postgres` server in the foreground as a Service (stopped and killed like the others). As root,
// it runs as the `postgres` user Debian's package creates: PostgreSQL refuses to run as root.

export interface PostgresOptions {
  /** The folder with initdb, postgres and pg_isready (.tools/cluster-tools.json's postgresBin). */
  bin: string;
  /** Ours alone: the cluster is made in `cluster/` inside it (see `postgresCluster` for where, as root). */
  dataDir: string;
  port: number;
  /** The superuser initdb makes, which the Temporal server and temporal-sql-tool log in as. */
  user: string;
  password: string;
  logFile: string;
  detached?: boolean;
  onSpawn?: ServiceOptions['onSpawn'];
}

export interface Postgres {
  service: Service;
  host: string;
  port: number;
  /** The cluster's folder (`postgres -D`). */
  cluster: string;
  /** Starts it again on the same cluster and port (after it died). */
  restart: () => Promise<Postgres>;
}

type RunAs = { uid: number; gid: number };

/** Who runs PostgreSQL: this process's user, or `postgres` when this process is root. */
function runAs(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error(
      'running as root, PostgreSQL needs an unprivileged user to run as, and there is no `postgres` user: ' +
        "install Debian's postgresql package (bash scripts/temporal-cluster-tools.sh does), or run as another user.",
    );
  }
}

/** Whether `user` can search (`x`) or, with `write`, write into `dir`, as the kernel decides for that user. */
const userCan = (user: RunAs, dir: string, test: '-x' | '-w') =>
  spawnSync('test', [test, dir], { ...user, cwd: '/' }).status === 0;

/** The first folder on the way to `dir` that `user` cannot enter (a 0700 home or mktemp folder). */
function blockingFolder(user: RunAs, dir: string): string | undefined {
  const parts = path.resolve(dir).split(path.sep).filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const folder = path.sep + parts.slice(0, i).join(path.sep);
    if (!userCan(user, folder, '-x')) return folder;
  }
  return undefined;
}

/** A folder owned by the postgres user, mode 0700 (as initdb wants), made if missing. */
function ownedFolder(dir: string, user: RunAs | undefined): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (user) chownSync(dir, user.uid, user.gid);
}

/**
 * Where the cluster lives: `<dataDir>/cluster`. As root, PostgreSQL runs as the postgres user, who
 * must be able to enter every folder above it; a clone in root's home or a `mktemp -d` folder (both
 * 0700) is out of its reach. Then the cluster goes where Debian's own packaging keeps clusters, under
 * the postgres user's home (/var/lib/postgresql/ct-coordinator/<hash of the data folder>), and
 * `<dataDir>/cluster-location` says so. Decided before anything starts, so a refusal stops nothing.
 */
export function postgresCluster(dataDir: string): { cluster: string; movedBecause?: string } {
  const user = runAs();
  const inPlace = path.join(dataDir, 'cluster');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (!user) return { cluster: inPlace };
  // The data folder itself is made the postgres user's below; what matters is the way to it.
  const blocked = blockingFolder(user, path.dirname(dataDir));
  if (!blocked) {
    ownedFolder(dataDir, user);
    return { cluster: inPlace };
  }
  const home = execFileSync('getent', ['passwd', 'postgres'], { encoding: 'utf8' }).split(':')[5]?.trim() ?? '';
  const id = createHash('sha256').update(realpathSync(dataDir)).digest('hex').slice(0, 16);
  const elsewhere = path.join(home || '/var/lib/postgresql', 'ct-coordinator', id);
  const movedBecause = `the postgres user cannot enter ${blocked}`;
  if (!home || blockingFolder(user, path.dirname(home)) || !existsSync(home)) {
    throw new Error(
      `${movedBecause}, which holds the data folder ${dataDir}, and has no home folder of its own to keep the ` +
        `cluster in. Let it through with \`chmod o+x ${blocked}\`, or choose a data folder it can reach: ` +
        `CT_DATA_DIR=/var/tmp/ct-coordinator npm run stack:prod`,
    );
  }
  ownedFolder(path.dirname(elsewhere), user);
  ownedFolder(elsewhere, user);
  writeFileSync(path.join(dataDir, 'cluster-location'), `${path.join(elsewhere, 'cluster')}\n(${movedBecause})\n`);
  return { cluster: path.join(elsewhere, 'cluster'), movedBecause };
}

async function initdb(o: PostgresOptions, cluster: string, user: RunAs | undefined): Promise<void> {
  // Beside the cluster: postgresCluster chose a folder the postgres user can reach.
  const pwFile = path.join(path.dirname(cluster), 'initdb.pw');
  writeFileSync(pwFile, `${o.password}\n`, { mode: 0o600 });
  if (user) chownSync(pwFile, user.uid, user.gid);
  try {
    await promisify(execFile)(
      path.join(o.bin, 'initdb'),
      ['-D', cluster, '-U', o.user, `--pwfile=${pwFile}`, '-A', 'scram-sha-256', '-E', 'UTF8', '--locale=C'],
      { ...user, cwd: '/' },
    );
  } catch (err) {
    const out = (err as { stderr?: string }).stderr ?? String(err);
    throw new Error(
      `initdb -D ${cluster} failed${user ? ' (as the postgres user, who must be able to reach every folder above it)' : ''}:\n${out}`,
      { cause: err },
    );
  } finally {
    rmSync(pwFile, { force: true });
  }
}

/** Starts PostgreSQL on 127.0.0.1:port (initdb first if the folder is new); resolves once it accepts connections. */
export async function startPostgres(o: PostgresOptions): Promise<Postgres> {
  const user = runAs();
  const { cluster } = postgresCluster(o.dataDir);
  if (!existsSync(path.join(cluster, 'PG_VERSION'))) await initdb(o, cluster, user);
  const service = Service.start({
    name: 'postgres',
    command: path.join(o.bin, 'postgres'),
    args: [
      '-D',
      cluster,
      '-p',
      String(o.port),
      '-c',
      'listen_addresses=127.0.0.1',
      // TCP only: the default socket folder (/var/run/postgresql) may not be ours to write.
      '-c',
      'unix_socket_directories=',
      // One Temporal process opens up to 30 connections per service (four services).
      '-c',
      'max_connections=300',
    ],
    cwd: '/',
    logFile: o.logFile,
    detached: o.detached,
    onSpawn: o.onSpawn,
    ...user,
    // SIGTERM waits for every client to leave; SIGINT is PostgreSQL's fast, clean shutdown.
    stopSignal: 'SIGINT',
  });
  const ready = promisify(execFile);
  await waitUntilReady(
    service,
    async () => {
      await ready(path.join(o.bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(o.port)]);
      return true;
    },
    60_000,
  );
  return { service, host: '127.0.0.1', port: o.port, cluster, restart: () => startPostgres(o) };
}
