declare module "*.sql" {
  const sql: string;
  export default sql;
}

// Static files imported with { type: "file" } resolve to a path (embedded by `bun build --compile`).
declare module "*.css" {
  const path: string;
  export default path;
}
declare module "*.svg" {
  const path: string;
  export default path;
}
declare module "*.png" {
  const path: string;
  export default path;
}
declare module "*.webmanifest" {
  const path: string;
  export default path;
}
declare module "*.js" {
  const path: string;
  export default path;
}
