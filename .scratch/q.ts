import { Database } from "bun:sqlite";
const db = new Database("/tmp/seed/medianest.db", { readonly: true });
const U = (db.query("select user_id u from notifications group by user_id order by count(*) desc limit 1").get() as any).u;
const qs: Record<string, string> = {
  count: "select count(*) from notifications where user_id = ?",
  page: "select * from notifications where user_id = ? order by created_at desc, id desc limit 20 offset 0",
  pageNoId: "select * from notifications where user_id = ? order by created_at desc limit 20 offset 0",
};
for (const [k, q] of Object.entries(qs)) {
  const st = db.prepare(q);
  for (let i = 0; i < 200; i++) st.values(U);
  const t = performance.now();
  for (let i = 0; i < 2000; i++) st.values(U);
  console.log(k, (((performance.now() - t) / 2000) * 1000).toFixed(1), "µs");
}
