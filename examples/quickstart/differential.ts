import { Differential } from "@differentialhq/core";

// The API secret and endpoint that `scripts/dev` prints.
export const d = new Differential(process.env.DIFFERENTIAL_API_SECRET, {
  endpoint: process.env.DIFFERENTIAL_ENDPOINT ?? "http://127.0.0.1:4000",
});
