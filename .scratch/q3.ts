import { Database } from "bun:sqlite";
const path = process.argv[2]!;
const db = new Database(path);
const U = (db.query("select user_id u from downloads group by user_id order by count(*) desc limit 1").get() as any).u;
const N = (db.query("select user_id u from notifications group by user_id order by count(*) desc limit 1").get() as any).u;
const qs: [string, string, string][] = [
  ["downloads", U, `select * from downloads where user_id = ? order by created_at desc, id desc limit 25 offset 0`],
  ["notifications", N, `select * from notifications where user_id = ? order by created_at desc, id desc limit 20 offset 0`],
];
for (const [k, u, q] of qs) {
  const st = db.prepare(q);
  for (let i = 0; i < 200; i++) st.values(u);
  const t = performance.now();
  for (let i = 0; i < 2000; i++) st.values(u);
  console.log(k, (((performance.now() - t) / 2000) * 1000).toFixed(1), "µs |", db.query("explain query plan " + q).all(u).map((r: any) => r.detail).join(" | "));
}
