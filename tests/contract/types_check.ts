// Type-checked by `tsc --strict` against the types openapi-typescript generates from
// the live document (`make contract`): a browser client's view of the contract.
// It never runs; it compiles only while the types say what the API does, and each
// `@ts-expect-error` fails the build if the types grow too loose to catch the mistake.
import type { components, operations } from "./api";

type Json<T> = T extends { content: { "application/json": infer Body } } ? Body : never;

type LoginBody = Json<operations["auth_login"]["requestBody"]>;
type TokenPair = Json<operations["auth_login"]["responses"][200]>;
type ProductQuery = NonNullable<operations["products_list"]["parameters"]["query"]>;
type Products = Json<operations["products_list"]["responses"][200]>;
type OrderBody = Json<operations["orders_create"]["requestBody"]>;
type Order = components["schemas"]["OrderRead"];
type Problem = components["schemas"]["Problem"];

async function call<T>(url: string, init: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  if (!response.ok) {
    const problem = (await response.json()) as Problem;
    throw new Error(`${problem.status} ${problem.code}: ${problem.detail}`);
  }
  return (await response.json()) as T;
}

export async function firstOrder(base: string, username: string, password: string): Promise<string> {
  const credentials: LoginBody = { username, password };
  const pair = await call<TokenPair>(`${base}/api/v1/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(credentials),
  });
  const bearer: string = `${pair.token_type} ${pair.access_token}`;
  const query: ProductQuery = { in_stock: true, limit: 5, sort: "-stock" };
  const search = new URLSearchParams(Object.entries(query).map(([key, value]) => [key, String(value)]));
  const products = await call<Products>(`${base}/api/v1/products?${search}`, { method: "GET" });
  const product = products[0];
  if (product === undefined) return "nothing in stock";
  const order: OrderBody = { items: [{ product_id: product.id, quantity: 1 }] };
  const placed = await call<Order>(`${base}/api/v1/orders`, {
    method: "POST",
    headers: { Authorization: bearer, "Content-Type": "application/json", "Idempotency-Key": "first-order" },
    body: JSON.stringify(order),
  });
  const total: string = placed.total; // money is a string with two decimals, never a float
  return `${placed.status}: ${total} ${placed.currency}`;
}

// Response headers are part of the types.
type Page = operations["products_list"]["responses"][200]["headers"];
export const totalCount = (headers: Page): number => headers["X-Total-Count"];
type Created = operations["orders_create"]["responses"][201]["headers"];
export const location = (headers: Created): string => headers["Location"];
type Read = operations["products_read"]["responses"][200]["headers"];
export const etag = (headers: Read): string => headers["ETag"];
export const notModified: operations["products_read"]["responses"][304]["headers"]["ETag"] = '"product-1-v1"';
type Limited = operations["auth_login"]["responses"][429]["headers"];
export const retryAfter = (headers: Limited): number | undefined => headers["Retry-After"];
export const stream: Json<never> | operations["events_stream"]["responses"][200]["content"]["text/event-stream"] =
  'id: 1\nevent: order.created\ndata: {"id": 1}\n\n';
export const conditional: NonNullable<operations["products_update"]["parameters"]["header"]> = { "If-Match": '"p"' };

// @ts-expect-error a login needs its password
export const noPassword: LoginBody = { username: "ada_l" };
// @ts-expect-error a quantity is a number, not a string
export const textQuantity: OrderBody = { items: [{ product_id: 1, quantity: "2" }] };
// @ts-expect-error a PATCH field may be left out, but not set to null
export const nullName: Json<operations["products_update"]["requestBody"]> = { name: null };
// @ts-expect-error an unknown field is refused (additionalProperties: false)
export const extraField: OrderBody = { items: [], role: "admin" };
// @ts-expect-error there is no such operation
export type Missing = operations["products_delete_all"];
