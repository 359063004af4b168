// A resource controller for the kind "user" (docs/resources.md): an SDK service named
// resources.user with two functions.
// - inform: diffplane calls it every INFORM_INTERVAL_SECONDS; it returns the users of the
//   source as resources to inform (unchanged ones cost nothing), plus the synced users
//   that the source no longer has, so that their work runs and deletes them.
// - work: diffplane calls it for each new or changed user; it "syncs" the user (here: a
//   log line) and answers {"action":"synced"}, or {"action":"delete"} when the source no
//   longer has the user.
import path from "node:path";
import { fileURLToPath } from "node:url";

import { Differential } from "@differentialhq/core";

import { fetchUsers, startSource } from "./source";

const here = path.dirname(fileURLToPath(import.meta.url));
const secret = process.env.DIFFERENTIAL_API_SECRET;
const endpoint = process.env.DIFFERENTIAL_ENDPOINT ?? "http://127.0.0.1:4000";
const usersFile = path.resolve(process.env.USERS_FILE ?? path.join(here, "users.json"));
const interval = Number(process.env.INFORM_INTERVAL_SECONDS ?? 5);
if (!secret) {
  console.error("set DIFFERENTIAL_API_SECRET to the API secret scripts/dev printed");
  process.exit(2);
}

/** A call of diffplane's HTTP API with the cluster's API secret. */
async function api(method: string, route: string, body?: unknown): Promise<any> {
  const res = await fetch(`${endpoint}${route}`, {
    method,
    headers: { authorization: `Basic ${secret}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** The ids and states of every user resource diffplane holds. */
async function knownUsers(): Promise<{ id: string; state: string }[]> {
  const known: { id: string; state: string }[] = [];
  let cursor: string | null = null;
  do {
    const page = await api(
      "GET",
      `/resources?kind=user&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    known.push(...page.resources.map((r: any) => ({ id: r.id, state: r.state })));
    cursor = page.cursor;
  } while (cursor);
  return known;
}

const sourceUrl = await startSource(usersFile, Number(process.env.SOURCE_PORT ?? 4600));
console.log(`source: ${sourceUrl}/users serves ${usersFile}; edit the file to change it`);

const d = new Differential(secret, { endpoint });
const controller = d.service({
  name: "resources.user",
  functions: {
    inform: async ({ kind, lastRunAt }: { kind: string; lastRunAt: number | null }) => {
      const users = await fetchUsers(sourceUrl);
      const resources: object[] = [...users.values()].map((user) => ({ kind, id: user.id, object: user }));
      // Only synced ones: any other state but deleted has a work coming, which finds the
      // user gone, and a deleted one informed again would be worked again.
      for (const { id, state } of await knownUsers())
        if (!users.has(id) && state === "synced")
          resources.push({ kind, id, object: { id, removedFromSource: true } });
      const since = lastRunAt ? new Date(lastRunAt).toISOString() : "never";
      console.log(`inform: ${users.size} users in the source (last run: ${since})`);
      return resources;
    },
    work: async ({ id, object, attempt }: { id: string; object: any; attempt: number }) => {
      const users = await fetchUsers(sourceUrl);
      if (!users.has(id)) {
        console.log(`work: user ${id} is gone from the source -> deleted`);
        return { action: "delete" };
      }
      // A real controller would write the user into the system it keeps in sync here.
      console.log(`work: user ${id} (attempt ${attempt}) ${JSON.stringify(object)} -> synced`);
      return { action: "synced" };
    },
  },
});

await controller.start();
// Turns the informer on (and keeps the kind's other settings at the server's defaults).
await api("PUT", "/resources-kinds/user", { informIntervalSeconds: interval });
console.log(`controller of "user" is running, informing every ${interval} s; stop it with Ctrl-C`);

const stop = () => controller.stop().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
