// A TypeScript task module of the user's project (spec/package/package.spec.ts).
export function half(x: number): number {
  return x / 2;
}
