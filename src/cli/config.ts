import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { describeConfig } from "../config/config";
import type { Config } from "../config/options";
import { keyFilePath } from "../config/secret-box";

/** Describe the effective configuration for `medianest config`, saying which key encrypts stored secrets. */
export function configLines(config: Config): string[] {
  return describeConfig(config).map((line) => {
    if (config.secretKey || !line.startsWith("MEDIANEST_SECRET_KEY=")) return line;
    const file = resolve(keyFilePath(config.dataDir));
    return existsSync(file)
      ? `MEDIANEST_SECRET_KEY=(unset: the key file ${file} is in use)`
      : `MEDIANEST_SECRET_KEY=(unset: the first start creates the key file ${file})`;
  });
}
