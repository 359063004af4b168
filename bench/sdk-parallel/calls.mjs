// The calls of one caller process: `count` parallel calls echo(first..first+count-1)
// through one SDK client; each outcome says whether the call returned its own argument.
import { Differential } from "./sdk.mjs";

export async function makeCalls(first, count, onDone) {
  const d = new Differential(process.env.DIFFPLANE_API_SECRET, { endpoint: process.env.DIFFPLANE_ENDPOINT });
  const client = d.client("bench");
  return Promise.all(
    Array.from({ length: count }, async (_, k) => {
      const i = first + k;
      const t0 = Date.now();
      try {
        const value = await client.echo(i);
        return { ok: value?.i === i, ms: Date.now() - t0, error: value?.i === i ? null : `wrong value ${JSON.stringify(value)}` };
      } catch (e) {
        return { ok: false, ms: Date.now() - t0, error: String(e?.message ?? e) };
      } finally {
        onDone();
      }
    }),
  );
}
