// Runs the graphql-http server audits (the GraphQL-over-HTTP conformance
// checks) against a running endpoint and prints one line per audit.
//
//   node audit.mjs http://127.0.0.1:8080/graphql
//
// Exits 1 when any audit reports an error (warnings and notices are
// printed, not fatal). The Go test TestGraphQLOverHTTPAudit runs this
// against an in-process server.
import { auditServer } from 'graphql-http';

const url = process.argv[2] ?? process.env.GRAPHQL_URL;
if (!url) {
  console.error('usage: node audit.mjs <url of /graphql>');
  process.exit(2);
}

const results = await auditServer({ url });
const count = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const r of results) {
  count[r.status]++;
  const reason = r.status === 'ok' ? '' : ` (${r.reason})`;
  console.log(`${r.status.padEnd(6)} ${r.id} ${r.name}${reason}`);
}
console.log(`summary ok=${count.ok} notice=${count.notice} warn=${count.warn} error=${count.error}`);
process.exit(count.error > 0 ? 1 : 0);
