export default async function globalTeardown(): Promise<void> {
  await Promise.all((globalThis.__CT_TEST_SERVICES__ ?? []).map((s) => s.stop()));
}
