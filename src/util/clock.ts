// Wall clock kept as an offset to the monotonic uptime counter: DeviceScript has
// no RTC and no Date. The central system sets it (BootNotification, Heartbeat).
import * as ds from "@devicescript/core"
import { formatIso8601 } from "./iso8601"

let offsetMs = NaN

/** Set the wall clock from epoch ms (e.g. a `currentTime` the central system sent). */
export function setWallClock(epochMs: number) {
    if (epochMs > 0) offsetMs = epochMs - ds.millis()
}

/** Current wall time in epoch ms; before the first sync it counts from 1970 (uptime). */
export function wallClockMs() {
    return Math.floor(ds.millis() + (isNaN(offsetMs) ? 0 : offsetMs))
}

/** OCPP timestamp of now. */
export function nowIso() {
    return formatIso8601(wallClockMs())
}
