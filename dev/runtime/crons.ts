// Crons from convex/crons.ts on real timers. convex-test has no cron support, so
// the schedule is read from the module's `crons` export (the same JSON the CLI
// pushes) and each job runs through the engine when it falls due.
import type { CronSpec, HostEngine } from "./engineHost.ts";
import type { Logger } from "./deployment.ts";

const DAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

interface CronFields {
  minute: Set<number>;
  hour: Set<number>;
  dom: Set<number>;
  month: Set<number>;
  dow: Set<number>;
  domStar: boolean;
  dowStar: boolean;
}

function parseField(field: string, min: number, max: number): Set<number> {
  const out = new Set<number>();
  for (const part of field.split(",")) {
    const [rangePart, stepPart] = part.split("/");
    const step = stepPart ? Number(stepPart) : 1;
    let lo = min;
    let hi = max;
    if (rangePart !== "*") {
      const [a, b] = rangePart.split("-").map(Number);
      lo = a;
      hi = b ?? (stepPart ? max : a);
    }
    if (![lo, hi, step].every(Number.isInteger) || lo < min || hi > max || step < 1) {
      throw new Error(`Invalid cron field "${field}"`);
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

/** Five-field cron expression in UTC: minute hour day-of-month month day-of-week. */
export function parseCron(expr: string): CronFields {
  const f = expr.trim().split(/\s+/);
  if (f.length !== 5) throw new Error(`Cron expression "${expr}" must have 5 fields`);
  const dow = parseField(f[4].replace(/\b7\b/, "0"), 0, 6);
  return {
    minute: parseField(f[0], 0, 59),
    hour: parseField(f[1], 0, 23),
    dom: parseField(f[2], 1, 31),
    month: parseField(f[3], 1, 12),
    dow,
    domStar: f[2] === "*",
    dowStar: f[4] === "*",
  };
}

/** The first minute strictly after `after` (ms) that matches. */
export function nextCronTime(fields: CronFields, after: number): number {
  const d = new Date(after);
  d.setUTCSeconds(0, 0);
  d.setUTCMinutes(d.getUTCMinutes() + 1);
  for (let i = 0; i < 366 * 24 * 60; i++) {
    const dayOk =
      fields.domStar && fields.dowStar
        ? true
        : fields.domStar
          ? fields.dow.has(d.getUTCDay())
          : fields.dowStar
            ? fields.dom.has(d.getUTCDate())
            : fields.dom.has(d.getUTCDate()) || fields.dow.has(d.getUTCDay());
    if (
      fields.month.has(d.getUTCMonth() + 1) &&
      dayOk &&
      fields.hour.has(d.getUTCHours()) &&
      fields.minute.has(d.getUTCMinutes())
    ) {
      return d.getTime();
    }
    d.setUTCMinutes(d.getUTCMinutes() + 1);
  }
  throw new Error("Cron expression never fires");
}

/** ms until the next run of a Convex cron schedule, measured from `now`. */
export function nextRun(schedule: CronSpec["schedule"], now: number, lastRun: number | null): number {
  const s = schedule as Record<string, number | string | undefined> & { type: string };
  switch (s.type) {
    case "interval": {
      const ms = ((s.seconds as number) ?? 0) * 1000 + ((s.minutes as number) ?? 0) * 60_000 + ((s.hours as number) ?? 0) * 3_600_000;
      return lastRun === null ? now + ms : lastRun + ms;
    }
    case "hourly":
      return nextCronTime(parseCron(`${s.minuteUTC ?? 0} * * * *`), now);
    case "daily":
      return nextCronTime(parseCron(`${s.minuteUTC ?? 0} ${s.hourUTC} * * *`), now);
    case "weekly":
      return nextCronTime(parseCron(`${s.minuteUTC ?? 0} ${s.hourUTC} * * ${DAYS.indexOf(String(s.dayOfWeek))}`), now);
    case "monthly":
      return nextCronTime(parseCron(`${s.minuteUTC ?? 0} ${s.hourUTC} ${s.day} * *`), now);
    case "cron":
      return nextCronTime(parseCron(String(s.cron)), now);
    default:
      throw new Error(`Unsupported cron schedule type "${s.type}"`);
  }
}

export interface CronRunner {
  jobs: string[];
  stop(): void;
}

export async function startCrons(engine: HostEngine, log: Logger): Promise<CronRunner> {
  const specs = await engine.crons();
  const timers = new Map<string, NodeJS.Timeout>();
  let stopped = false;
  const arm = (id: string, spec: CronSpec, lastRun: number | null) => {
    if (stopped) return;
    const at = nextRun(spec.schedule, Date.now(), lastRun);
    // Node timers cap at ~24.8 days; re-arm in steps for monthly schedules.
    const delay = Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1);
    timers.set(
      id,
      setTimeout(async () => {
        if (at > Date.now()) return arm(id, spec, lastRun);
        const started = Date.now();
        const r = await engine.runByPath(spec.name, spec.args[0] ?? {});
        if (!r.ok) log.error(`cron "${id}" (${spec.name}) failed: ${r.stack ?? r.message}`);
        arm(id, spec, spec.schedule.type === "interval" ? Math.max(started, at) : null);
      }, delay),
    );
  };
  for (const [id, spec] of Object.entries(specs)) arm(id, spec, null);
  return {
    jobs: Object.keys(specs),
    stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
    },
  };
}
