// The "outside world" of this example: a small HTTP source that serves the users of a
// local JSON file (an array of {id, ...}) at GET /users, read afresh on every request, so
// editing the file is how the source changes.
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export type User = { id: string; [field: string]: unknown };

/** Serves `file` on 127.0.0.1:`port` (0: any free port); resolves with the source's URL. */
export async function startSource(file: string, port: number): Promise<string> {
  const server = createServer(async (req, res) => {
    if (req.method !== "GET" || req.url !== "/users") {
      res.writeHead(404).end();
      return;
    }
    try {
      const users = JSON.parse(await readFile(file, "utf8"));
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(users));
    } catch (e) {
      // A half-saved file: the informer's run fails and is tried again next interval.
      res.writeHead(503, { "content-type": "text/plain" }).end(`cannot read ${file}: ${e}`);
    }
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  server.unref();
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The users the source has now, by id. */
export async function fetchUsers(sourceUrl: string): Promise<Map<string, User>> {
  const res = await fetch(`${sourceUrl}/users`);
  if (!res.ok) throw new Error(`the source answered ${res.status}: ${await res.text()}`);
  const users = (await res.json()) as User[];
  return new Map(users.map((u) => [String(u.id), u]));
}
