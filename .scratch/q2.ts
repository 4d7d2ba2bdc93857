import { Database } from "bun:sqlite";
const db = new Database("/tmp/seed/medianest.db", { readonly: true });
const U = (db.query("select user_id u from media_requests group by user_id order by count(*) desc limit 1").get() as any).u;
const qs: Record<string, string> = {
  count: `select count(*) from media_requests where user_id = ?`,
  page: `select media_requests.*, users.display_name from media_requests inner join users on users.id = media_requests.user_id where media_requests.user_id = ? order by media_requests.created_at desc, media_requests.id desc limit 25 offset 0`,
  pageNoId: `select media_requests.*, users.display_name from media_requests inner join users on users.id = media_requests.user_id where media_requests.user_id = ? order by media_requests.created_at desc limit 25 offset 0`,
};
for (const [k, q] of Object.entries(qs)) {
  const st = db.prepare(q);
  for (let i = 0; i < 200; i++) st.values(U);
  const t = performance.now();
  for (let i = 0; i < 2000; i++) st.values(U);
  console.log(k, (((performance.now() - t) / 2000) * 1000).toFixed(1), "µs");
  console.log(db.query("explain query plan " + q).all(U).map((r: any) => r.detail).join(" | "));
}
