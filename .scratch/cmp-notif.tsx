import { NotificationList as Old } from "./old-notifications";
import { NotificationList as New } from "../views/pages/notifications";
const nasty = [`<script>alert(1)</script>`, `"quoted" & 'single'`, "Ünïcödé — “curly” 日本語 😀", "plain", "", "a\u0000b", "</li><li>"];
let n = 0, bad = 0;
for (const title of nasty) for (const body of nasty) for (const link of [null, "https://app.plex.tv/desktop#!/x?a=1&b=\"2\"", "/downloads", `javascript:"<x>"`]) for (const readAt of [null, new Date(1700000000000)]) for (const csrf of [undefined, "tok<&>\""]) {
  const items = [{ id: `id-${n}"<`, userId: "u", kind: "k", title, body, link, createdAt: new Date(1733300000123 + n), readAt }] as any;
  const a = String((<Old items={items} total={1} page={1} pageSize={20} csrf={csrf} />).toString());
  const b = String((<New items={items} total={1} page={1} pageSize={20} csrf={csrf} />).toString());
  n++;
  if (a !== b) { bad++; if (bad < 3) { console.log("OLD", a); console.log("NEW", b); } }
}
console.log(`${n} variants, ${bad} differ`);
