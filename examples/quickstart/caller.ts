import { d } from "./differential";
import type { helloService } from "./service";

const hello = d.client<typeof helloService>("hello");

console.log(await hello.greet("world"));
console.log("2 + 3 =", await hello.add(2, 3));
process.exit(0);
