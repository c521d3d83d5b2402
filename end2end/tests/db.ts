// Reads the warehouse the server uses, independently of the server's code: Python's
// sqlite3 module runs the SQL on the SQLite files (raw and analytics attached as schemas).
import { execFileSync } from "node:child_process";
import * as path from "node:path";

const python = process.env.DATAMAG_PYTHON || "python3";

export function query(sql: string, params: (string | number)[] = []): any[] {
  const dir = process.env.E2E_DATA_DIR;
  if (!dir) throw new Error("E2E_DATA_DIR is not set");
  const script = `
import json, sqlite3, sys
d = sys.argv[1]
c = sqlite3.connect(d + "/warehouse.db")
c.execute("ATTACH DATABASE ? AS raw", (d + "/warehouse-raw.db",))
c.execute("ATTACH DATABASE ? AS analytics", (d + "/warehouse-analytics.db",))
rows = c.execute(sys.argv[2], json.loads(sys.argv[3])).fetchall()
print(json.dumps(rows))
`;
  const out = execFileSync(python, ["-c", script, path.resolve(dir), sql, JSON.stringify(params)], {
    encoding: "utf8",
  });
  return JSON.parse(out);
}

/** The KPIs of a filter, computed straight from the analytics tables. */
export function expectedKpis(f: { from: string; to: string; store?: number; sensors?: number[]; h0?: number; h1?: number }) {
  const h0 = `${String(f.h0 ?? 9).padStart(2, "0")}:00:00`;
  const h1 = `${String(f.h1 ?? 19).padStart(2, "0")}:00:00`;
  const store = f.store ?? 0;
  const sensorClause = f.sensors && f.sensors.length && store ? ` AND sensor_id IN (${f.sensors.map(Number).join(",")})` : "";
  const base = "date >= ? AND date <= ? AND heure >= ? AND heure <= ? AND (? = 0 OR store_id = ?)";
  const args = [f.from, f.to, h0, h1, store, store];
  const [[visitors]] = query(`SELECT COALESCE(SUM(nb_visiteurs), 0) FROM analytics.visiteurs WHERE ${base}${sensorClause}`, args);
  const [[storeVisitors]] = query(`SELECT COALESCE(SUM(nb_visiteurs), 0) FROM analytics.visiteurs WHERE ${base}`, args);
  const [[tx, revenue]] = query(
    `SELECT COALESCE(SUM(nb_transactions), 0), COALESCE(SUM(chiffre_affaires_centimes) / 100.0, 0) FROM analytics.transactions WHERE ${base}`,
    args,
  );
  const [[active]] = query(
    `SELECT COUNT(*) FROM (SELECT DISTINCT store_id, sensor_id FROM analytics.visiteurs WHERE ${base}${sensorClause} AND imputed = 0 AND nb_visiteurs > 0)`,
    args,
  );
  return {
    visitors,
    active_sensors: active,
    transactions: tx,
    revenue,
    conversion: storeVisitors ? tx / storeVisitors : null,
    average_ticket: tx ? revenue / tx : null,
    revenue_per_visitor: storeVisitors ? revenue / storeVisitors : null,
  };
}
