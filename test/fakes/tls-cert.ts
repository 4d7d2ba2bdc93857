/**
 * A self-signed certificate for the names hook.test and mail.test (valid until 2126), for receivers that speak TLS:
 * tests trust it by passing it as the CA, and check that a connection presents and verifies the right name.
 * Made with: openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500
 *   -subj /CN=hook.test -addext subjectAltName=DNS:hook.test,DNS:mail.test
 */
export const TEST_TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBnzCCAUagAwIBAgIUGnkI7AyvGK1vCZMHLO45piYCseQwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJaG9vay50ZXN0MCAXDTI2MTIwMjA1MzE0M1oYDzIxMjYxMTA4
MDUzMTQzWjAUMRIwEAYDVQQDDAlob29rLnRlc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQk2qk8/NF1M7P0O6hpfgeh29KdW1/5SHmUA8h6CaHQiVL471eX41AA
spe1jVzt7pSM2sijJT/YzKJ1/JSZ1slQo3QwcjAdBgNVHQ4EFgQUPIUUFr420xBn
jtPkUEBN6ObUiqowHwYDVR0jBBgwFoAUPIUUFr420xBnjtPkUEBN6ObUiqowDwYD
VR0TAQH/BAUwAwEB/zAfBgNVHREEGDAWgglob29rLnRlc3SCCW1haWwudGVzdDAK
BggqhkjOPQQDAgNHADBEAiABjtHGM65CVg6MdEtsG9GAI1p2BZEb+oBHQ4272fF/
8AIgKrVKviqGybwjhmHLRZ2NjbM1EJziu8tR3DQpCT4g72E=
-----END CERTIFICATE-----
`;

export const TEST_TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgpwdwUhs7Eli0Pr/I
STasmYxzbJScRdKtwtlzWmWOEVChRANCAAQk2qk8/NF1M7P0O6hpfgeh29KdW1/5
SHmUA8h6CaHQiVL471eX41AAspe1jVzt7pSM2sijJT/YzKJ1/JSZ1slQ
-----END PRIVATE KEY-----
`;
