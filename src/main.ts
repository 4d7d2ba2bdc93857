import { CliError } from "./cli/errors";
import { ConfigError, loadConfig } from "./config/config";
import { DatabaseError } from "./db/errors";
import { createLogger, type Logger } from "./app/logger";
import { VERSION, versionLines } from "./version";

// Each command loads its own code when it runs: `healthcheck` runs every few seconds in a container and
// must not pay for the whole server.

const USAGE = `MediaNest ${VERSION}

Usage: medianest [command]

Commands:
  serve                 start the server (default)
  migrate               apply database migrations and exit
  create-admin NAME     create an administrator, or reset NAME's password (asks for it, or MEDIANEST_ADMIN_PASSWORD)
  backup [FILE]         write an online backup of the database (SQLite copy or pg_dump archive; encrypted
                        with MEDIANEST_BACKUP_PASSPHRASE or MEDIANEST_BACKUP_KEY_FILE; default: the backup dir)
  restore [--force] FILE
                        replace the database with a backup (SQLite: the server must be stopped; PostgreSQL:
                        refused while replicas are connected, unless --force)
  healthcheck           exit 0 when the local server is ready, 1 otherwise
  config                print the effective configuration, secrets masked
  version               print the version, the commit and the build time
  upgrade [--rollback]  replace this binary with the latest release's (checksum verified; the previous one is
                        kept), or go back to the previous one; restarts medianest.service where systemd runs it
`;

let log: Logger | undefined;

async function run(argv: string[]): Promise<number> {
  const [command = "serve", ...args] = argv;
  if (command === "help" || command === "--help" || command === "-h") {
    console.log(USAGE);
    return 0;
  }
  // Every command, version included, stops on a bad setting (the README promises it).
  const config = loadConfig();
  log = createLogger(config.logLevel);
  switch (command) {
    case "version":
    case "--version":
      console.log(versionLines().join("\n"));
      return 0;
    case "serve":
      return (await import("./cli/serve")).serve(config, log);
    case "migrate": {
      const [{ openDatabase }, { migrate }] = await Promise.all([import("./server/runtime"), import("./db/migrate")]);
      const database = await openDatabase(config, log);
      try {
        const applied = await migrate(database);
        console.log(applied.length ? `applied: ${applied.join(", ")}` : "database is up to date");
      } finally {
        await database.close();
      }
      return 0;
    }
    case "create-admin":
      return (await import("./cli/create-admin")).createAdmin(config, log, args);
    case "backup":
      console.log(`backup written to ${await (await import("./cli/backup")).backup(config, args[0])}`);
      return 0;
    case "restore": {
      const force = args.includes("--force");
      const [file, ...extra] = args.filter((a) => a !== "--force");
      if (!file || extra.length)
        throw new CliError("restore: name the backup file: medianest restore [--force] FILE", 2);
      const r = await (await import("./cli/backup")).restore(config, file, { force });
      console.log(
        `restored ${file} to ${r.restored}${r.previous ? `; the previous database is kept at ${r.previous}` : ""}`,
      );
      return 0;
    }
    case "upgrade":
      return (await import("./cli/upgrade")).upgrade(args);
    case "healthcheck":
      return (await import("./cli/healthcheck")).healthcheck(config);
    case "config":
      for (const line of (await import("./cli/config")).configLines(config)) console.log(line);
      return 0;
    default:
      console.error(`medianest: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

// Log lines still queued for a slow pipe are written before the process ends.
const exit = (code: number) => void (log?.flush() ?? Promise.resolve()).finally(() => process.exit(code));

run(process.argv.slice(2)).then(
  (code) => exit(code),
  (err) => {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return exit(2);
    }
    if (err instanceof CliError || err instanceof DatabaseError) {
      console.error(err.message);
      return exit(err instanceof CliError ? err.exitCode : 1);
    }
    console.error(`medianest: ${(err as Error).message}`);
    exit(1);
  },
);
