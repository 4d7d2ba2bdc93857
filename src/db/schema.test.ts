// Holds the two drizzle schemas equal, the embedded migration list complete, and the generated SQL in step
// with the schema files ("Both databases, one behaviour" in docs/architecture.md).
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { is, SQL, type Column } from "drizzle-orm";
import { getTableConfig as getPgTableConfig, PgTable } from "drizzle-orm/pg-core";
import { getTableConfig as getSqliteTableConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { postgresMigrations, sqliteMigrations } from "../../migrations";
import * as pgSchema from "./schema/postgres";
import * as sqliteSchema from "./schema/sqlite";

const ROOT = join(import.meta.dir, "../..");

/** A dialect-neutral description of one table, with everything both schemas must agree on. */
interface TableShape {
  name: string;
  columns: Record<
    string,
    { notNull: boolean; primary: boolean; unique: boolean; hasDefault: boolean; dataType: string; enumValues: string[] }
  >;
  primaryKeys: string[][];
  indexes: Record<string, { columns: string[]; unique: boolean }>;
  uniqueConstraints: Record<string, string[]>;
  foreignKeys: { columns: string[]; table: string; foreignColumns: string[]; onDelete: string; onUpdate: string }[];
}

function columnName(c: unknown): string {
  if (is(c, SQL)) return `(sql expression)`;
  return (c as Column).name;
}

type AnyConfig = ReturnType<typeof getSqliteTableConfig> | ReturnType<typeof getPgTableConfig>;

function shape(config: AnyConfig): TableShape {
  const columns: TableShape["columns"] = {};
  for (const c of config.columns as Column[]) {
    columns[c.name] = {
      notNull: c.notNull,
      primary: c.primary,
      unique: c.isUnique,
      hasDefault: c.hasDefault,
      // drizzle's JS-side type ("string", "number", "date", "boolean", "json"): store code sees the same values.
      dataType: c.dataType,
      enumValues: [...(c.enumValues ?? [])],
    };
  }
  const indexes: TableShape["indexes"] = {};
  for (const i of config.indexes) {
    indexes[i.config.name!] = { columns: i.config.columns.map(columnName), unique: Boolean(i.config.unique) };
  }
  const uniqueConstraints: TableShape["uniqueConstraints"] = {};
  for (const u of config.uniqueConstraints) uniqueConstraints[u.getName()!] = u.columns.map((c) => c.name);
  const foreignKeys = config.foreignKeys
    .map((fk) => {
      const ref = fk.reference();
      return {
        columns: ref.columns.map((c) => c.name),
        table: (ref.foreignTable as unknown as { [k: symbol]: string })[Symbol.for("drizzle:Name")]!,
        foreignColumns: ref.foreignColumns.map((c) => c.name),
        onDelete: fk.onDelete ?? "no action",
        onUpdate: fk.onUpdate ?? "no action",
      };
    })
    .sort((a, b) => a.columns.join().localeCompare(b.columns.join()));
  return {
    name: config.name,
    columns,
    primaryKeys: config.primaryKeys.map((pk) => pk.columns.map((c) => c.name)),
    indexes,
    uniqueConstraints,
    foreignKeys,
  };
}

const sqliteTables = new Map<string, TableShape>();
for (const value of Object.values(sqliteSchema)) {
  if (is(value, SQLiteTable)) {
    const s = shape(getSqliteTableConfig(value));
    sqliteTables.set(s.name, s);
  }
}
const pgTables = new Map<string, TableShape>();
for (const value of Object.values(pgSchema)) {
  if (is(value, PgTable)) {
    const s = shape(getPgTableConfig(value));
    pgTables.set(s.name, s);
  }
}

describe("schema twins", () => {
  test("both schema files export tables, under the same export names", () => {
    expect(sqliteTables.size).toBeGreaterThan(0);
    const names = (schema: Record<string, unknown>, cls: typeof SQLiteTable | typeof PgTable) =>
      Object.entries(schema)
        .filter(([, v]) => is(v, cls))
        .map(([k]) => k)
        .sort();
    expect(names(pgSchema, PgTable)).toEqual(names(sqliteSchema, SQLiteTable));
  });

  test("same tables", () => {
    expect([...pgTables.keys()].sort()).toEqual([...sqliteTables.keys()].sort());
  });

  for (const [name, lite] of sqliteTables) {
    describe(name, () => {
      const pg = () => pgTables.get(name)!;

      test("same columns with the same nullability, keys, defaults and JS types", () => {
        expect(pg()).toBeDefined();
        expect(Object.keys(pg().columns).sort()).toEqual(Object.keys(lite.columns).sort());
        for (const [col, def] of Object.entries(lite.columns)) {
          expect({ column: col, ...pg().columns[col] }).toEqual({ column: col, ...def });
        }
      });

      test("same primary key", () => {
        const pkOf = (t: TableShape) => [
          ...Object.entries(t.columns)
            .filter(([, c]) => c.primary)
            .map(([n]) => [n]),
          ...t.primaryKeys,
        ];
        expect(pkOf(lite).length).toBe(1);
        expect(pkOf(pg())).toEqual(pkOf(lite));
      });

      test("same indexes (names, columns, uniqueness) and unique constraints", () => {
        expect(pg().indexes).toEqual(lite.indexes);
        expect(pg().uniqueConstraints).toEqual(lite.uniqueConstraints);
      });

      test("same foreign keys", () => {
        expect(pg().foreignKeys).toEqual(lite.foreignKeys);
      });
    });
  }
});

describe("embedded migrations", () => {
  const onDisk = (dialect: string) =>
    readdirSync(join(ROOT, "migrations", dialect))
      .filter((f) => f.endsWith(".sql"))
      .sort()
      .map((f) => f.replace(/\.sql$/, ""));
  const journal = (dialect: string) =>
    (
      JSON.parse(readFileSync(join(ROOT, "migrations", dialect, "meta/_journal.json"), "utf8")) as {
        entries: { idx: number; tag: string }[];
      }
    ).entries;

  test("every migration exists for both dialects with the same tags, in order", () => {
    expect(sqliteMigrations.length).toBeGreaterThan(0);
    expect(postgresMigrations.map((m) => m.tag)).toEqual(sqliteMigrations.map((m) => m.tag));
  });

  for (const [dialect, list] of [
    ["sqlite", sqliteMigrations],
    ["postgres", postgresMigrations],
  ] as const) {
    test(`${dialect}: migrations/index.ts embeds every .sql file and drizzle's journal lists them`, () => {
      expect(list.map((m) => m.tag)).toEqual(onDisk(dialect));
      expect(journal(dialect).map((e) => e.tag)).toEqual(onDisk(dialect));
      expect(journal(dialect).map((e) => e.idx)).toEqual(onDisk(dialect).map((_, i) => i));
      for (const m of list) {
        expect(m.sql).toBe(readFileSync(join(ROOT, "migrations", dialect, `${m.tag}.sql`), "utf8"));
        expect(m.sql.trim().length).toBeGreaterThan(0);
      }
    });
  }
});

describe("generated SQL matches the schema files", () => {
  const temp = mkdtempSync(join(tmpdir(), "medianest-schema-"));
  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  /** Run drizzle-kit generate into a copy of a migrations folder; return its output and the .sql files after. */
  function generate(dialect: "sqlite" | "postgresql", schemaFile: string, out: string) {
    // drizzle-kit prefixes "./" to --out, so it must be relative to the working directory.
    const proc = Bun.spawnSync(
      [
        process.execPath,
        join(ROOT, "node_modules/drizzle-kit/bin.cjs"),
        "generate",
        "--dialect",
        dialect,
        "--schema",
        schemaFile,
        "--out",
        relative(ROOT, out),
      ],
      { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" } },
    );
    const output = proc.stdout.toString() + proc.stderr.toString();
    return {
      output,
      files: readdirSync(out)
        .filter((f) => f.endsWith(".sql"))
        .sort(),
    };
  }

  for (const [dir, dialect, schemaFile] of [
    ["sqlite", "sqlite", "./src/db/schema/sqlite.ts"],
    ["postgres", "postgresql", "./src/db/schema/postgres.ts"],
  ] as const) {
    test(`${dir}: drizzle-kit generate finds no schema changes`, () => {
      const copy = join(temp, dir);
      cpSync(join(ROOT, "migrations", dir), copy, { recursive: true });
      const before = readdirSync(copy)
        .filter((f) => f.endsWith(".sql"))
        .sort();
      const { output, files } = generate(dialect, schemaFile, copy);
      // drizzle-kit exits 0 even when it fails, so judge by what it says and what it wrote.
      expect(output).not.toMatch(/Error/);
      expect(output).toContain("No schema changes");
      expect(files).toEqual(before);
    });

    test(`${dir}: the check notices drift (an empty migrations folder gets a first migration)`, () => {
      const copy = join(temp, `${dir}-empty`);
      mkdirSync(copy);
      const { output, files } = generate(dialect, schemaFile, copy);
      expect(output).not.toContain("No schema changes");
      expect(files.length).toBe(1);
    });
  }
});
