import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Service, waitUntilReady, type ServiceOptions } from './process';

// PostgreSQL for the production topology, on a data folder of its own: initdb once, then the
// `postgres` server in the foreground as a Service (stopped and killed like the others). As root,
// it runs as the `postgres` user Debian's package creates: PostgreSQL refuses to run as root.

export interface PostgresOptions {
  /** The folder with initdb, postgres and pg_isready (.tools/cluster-tools.json's postgresBin). */
  bin: string;
  /** Ours alone: the cluster is made in `cluster/` inside it (owned by the postgres user when we are root). */
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
}

/** Who runs PostgreSQL: this process's user, or `postgres` when this process is root. */
function runAs(): { uid: number; gid: number } | undefined {
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

async function initdb(
  o: PostgresOptions,
  cluster: string,
  user: { uid: number; gid: number } | undefined,
): Promise<void> {
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  const pwFile = path.join(o.dataDir, 'initdb.pw');
  writeFileSync(pwFile, `${o.password}\n`, { mode: 0o600 });
  if (user) {
    chownSync(o.dataDir, user.uid, user.gid);
    chownSync(pwFile, user.uid, user.gid);
  }
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
  const cluster = path.join(o.dataDir, 'cluster');
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
  return { service, host: '127.0.0.1', port: o.port };
}
