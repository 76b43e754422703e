// greenloop's reporter for `node --test`: one JSON line per test (not per suite), with its file and the
// titles of its enclosing suites, so that outcomes have stable ids. Passed as a data: URL (no file written).
export default async function* greenloopReporter(source) {
  const open = new Map();
  for await (const event of source) {
    const data = event.data || {};
    const key = data.file || "";
    if (event.type === "test:start") {
      const stack = (open.get(key) || []).slice(0, data.nesting);
      stack[data.nesting] = data.name;
      open.set(key, stack);
    } else if (event.type === "test:pass" || event.type === "test:fail") {
      const details = data.details || {};
      if (details.type === "suite") continue;
      const titles = (open.get(key) || []).slice(0, data.nesting);
      const error = details.error ? (details.error.cause || details.error) : null;
      const status = data.skip !== undefined || data.todo !== undefined ? "skipped"
        : event.type === "test:pass" ? "passed" : "failed";
      yield JSON.stringify({ file: key, titles: [...titles, data.name], status,
                             message: error ? String(error.stack || error.message || error) : "" }) + "\n";
    }
  }
}
