import { d } from "./differential";

export const helloService = d.service({
  name: "hello",
  functions: {
    greet: async (name: string) => `Hello, ${name}!`,
    add: async (a: number, b: number) => a + b,
  },
});

await helloService.start();
console.log("hello service is running; stop it with Ctrl-C");

process.on("SIGINT", () => helloService.stop().then(() => process.exit(0)));
process.on("SIGTERM", () => helloService.stop().then(() => process.exit(0)));
