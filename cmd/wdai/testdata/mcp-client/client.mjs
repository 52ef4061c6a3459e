// An MCP client nobody here wrote: the official TypeScript SDK, driven by
// cmd/wdai/mcp_e2e_test.go. It connects to /mcp with an agent key over
// Streamable HTTP, lists the tools, calls one, and tries a tool the test
// says must be refused. It prints one JSON object.
//
// usage: node client.mjs URL KEY TOOL ARGS_JSON [REFUSED_TOOL]
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, key, tool, argsJSON, refusedTool] = process.argv.slice(2);
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${key}` } },
});
const client = new Client({ name: "wdai-e2e", version: "1.0.0" });
await client.connect(transport);
const { tools } = await client.listTools();
const call = await client.callTool({ name: tool, arguments: JSON.parse(argsJSON) });
let refused = null;
if (refusedTool) {
  try {
    const r = await client.callTool({ name: refusedTool, arguments: {} });
    refused = { isError: Boolean(r.isError), content: r.content };
  } catch (e) {
    refused = { error: String(e && e.message ? e.message : e) };
  }
}
process.stdout.write(JSON.stringify({ server: client.getServerVersion(), tools, call, refused }) + "\n");
await client.close();
