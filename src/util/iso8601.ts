// ISO 8601 / RFC 3339 date-times for OCPP, without `Date` (DeviceScript has none).
// Times are epoch milliseconds (UTC) held in float64: exact far beyond year 9999.

const MS_PER_DAY = 86400000

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number) {
    if (month <= 2) year--
    const era = Math.floor(year / 400)
    const yoe = year - era * 400
    const doy = Math.idiv(153 * (month > 2 ? month - 3 : month + 9) + 2, 5) + day - 1
    const doe = yoe * 365 + Math.idiv(yoe, 4) - Math.idiv(yoe, 100) + doy
    return era * 146097 + doe - 719468
}

function digits(s: string, from: number, count: number) {
    let v = 0
    for (let i = from; i < from + count; i++) {
        const c = s.charCodeAt(i) - 48
        if (!(c >= 0 && c <= 9)) return -1
        v = v * 10 + c
    }
    return v
}

/**
 * Parse `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]` into epoch ms.
 * A missing zone is read as UTC, which is what OCPP 1.6 mandates.
 * @returns NaN when the text is not such a date-time
 */
export function parseIso8601(s: string): number {
    if (typeof s !== "string" || s.length < 19) return NaN
    const year = digits(s, 0, 4)
    const month = digits(s, 5, 2)
    const day = digits(s, 8, 2)
    const hour = digits(s, 11, 2)
    const min = digits(s, 14, 2)
    const sec = digits(s, 17, 2)
    const t = s[10]
    if (
        s[4] !== "-" || s[7] !== "-" || (t !== "T" && t !== "t" && t !== " ") ||
        s[13] !== ":" || s[16] !== ":" ||
        year < 0 || month < 1 || month > 12 || day < 1 || day > 31 ||
        hour < 0 || hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 60
    )
        return NaN
    let i = 19
    let ms = 0
    if (s[i] === ".") {
        let scale = 100
        i++
        const start = i
        while (i < s.length) {
            const c = s.charCodeAt(i) - 48
            if (!(c >= 0 && c <= 9)) break
            ms += c * scale
            scale /= 10
            i++
        }
        if (i === start) return NaN
        ms = Math.floor(ms)
    }
    let offsetMin = 0
    const z = s[i]
    if (z === "Z" || z === "z") i++
    else if (z === "+" || z === "-") {
        const oh = digits(s, i + 1, 2)
        const om = digits(s, i + 4, 2)
        if (oh < 0 || om < 0 || s[i + 3] !== ":" || oh > 23 || om > 59) return NaN
        offsetMin = (oh * 60 + om) * (z === "-" ? -1 : 1)
        i += 6
    }
    if (i !== s.length) return NaN
    const days = daysFromCivil(year, month, day)
    return days * MS_PER_DAY + ((hour * 60 + min - offsetMin) * 60 + sec) * 1000 + ms
}

function pad2(n: number) {
    return n < 10 ? "0" + n : "" + n
}

/** Epoch ms → `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds: OCPP needs no more). */
export function formatIso8601(epochMs: number) {
    const days = Math.floor(epochMs / MS_PER_DAY)
    const secOfDay = Math.floor((epochMs - days * MS_PER_DAY) / 1000)
    // civil_from_days (H. Hinnant)
    const z = days + 719468
    const era = Math.floor(z / 146097)
    const doe = z - era * 146097
    const yoe = Math.idiv(doe - Math.idiv(doe, 1460) + Math.idiv(doe, 36524) - Math.idiv(doe, 146096), 365)
    const doy = doe - (365 * yoe + Math.idiv(yoe, 4) - Math.idiv(yoe, 100))
    const mp = Math.idiv(5 * doy + 2, 153)
    const day = doy - Math.idiv(153 * mp + 2, 5) + 1
    const month = mp < 10 ? mp + 3 : mp - 9
    const year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    return (
        year + "-" + pad2(month) + "-" + pad2(day) + "T" +
        pad2(Math.idiv(secOfDay, 3600)) + ":" + pad2(Math.idiv(secOfDay, 60) % 60) + ":" + pad2(secOfDay % 60) + "Z"
    )
}
