// docs/configuration.md from the key registry in src/store/config.ts (never by hand).
//   node tools/gen-config-doc.mjs          write it
//   node tools/gen-config-doc.mjs --check  exit 1 when it is out of date
import fs from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const SRC = path.join(ROOT, "src/store/config.ts")
const OUT = path.join(ROOT, "docs/configuration.md")

/** The KEYS and SETS tables as written in the source (string literals joined). */
function table(src, name) {
    const start = src.indexOf(`const ${name} =`)
    const end = src.indexOf('"|"\n', start) + 3
    return [...src.slice(start, end).matchAll(/"((?:[^"\\]|\\.)*)"/g)].map(m => m[1]).join("")
}

const TYPES = { I: "integer", B: "boolean", S: "string", C: "CSL" }
const BOARD_DEFAULTS = {
    $P: "`0.Unknown,1.Unknown` (three-phase board), `0.NotApplicable,1.NotApplicable` (single-phase)",
    $D: "16 on boards with a display (simulator), 3 without (ESP32 board)",
    $S: "the serial number (device id)",
    $R: "the board's rated current (32 A on both boards)",
    "@B": "live: the limiting slot(s) and value, e.g. `UserSetMaxCurrent,16A`",
    "@C": "live: every active slot, e.g. `[RatedOutputCurrent:32A],[UserSetMaxCurrent:16A]`",
}
const FORMATS = {
    o: "time offset `±HH:MM`, or empty",
    d: "ISO 8601 date-time, or empty",
    k: "16-40 printable characters; 32-40 hex digits are taken as the 16-20 key bytes (security whitepaper)",
    p: "`0`, or the CTEP JSON object with `priceText` (optional `priceTextOffline`, `chargingPrice`)",
    Z: "`enable,mode[,threshold]`: enable 0/1, mode 1 max speed / 2 avoid injection (threshold 0-6 A required) / 3 solar only",
    Y: "`mode[,threshold]` as in DefaultSolarMode; changeable only during a transaction",
}

export function generate() {
    const src = fs.readFileSync(SRC, "utf8")
    const sets = Object.fromEntries(
        table(src, "SETS")
            .split("|")
            .filter(Boolean)
            .map(r => [r[0], r.slice(2)])
    )
    const setNames = { S: "sampled measurands", A: "aligned measurands", P: "`connector.rotation` entries, rotation" }
    const rows = table(src, "KEYS")
        .split("|")
        .filter(Boolean)
        .map(r => r.split(";"))
    const lines = [
        "# Configuration keys",
        "",
        "Generated from the registry in `src/store/config.ts` by `node tools/gen-config-doc.mjs`;",
        "a test fails when this file and the registry disagree.",
        "",
        "- **GetConfiguration** without keys returns every key below but the write-only one;",
        "  with keys, at most `GetConfigurationMaxKeys` (20) of them: a longer list is answered",
        "  with CALLERROR `OccurenceConstraintViolation`. Unknown keys, the write-only",
        "  `AuthorizationKey` and the seed's unsupported keys (MinimumStatusDuration, BlinkRepeat,",
        "  LightIntensity, ConnectorPhaseRotationMaxLength, SupportedFeatureProfilesMaxLength,",
        "  ConnectorSwitch3to1PhaseSupported, ReserveConnectorZeroSupported) go to `unknownKey`.",
        "- **ChangeConfiguration**: unknown key `NotSupported`; read-only key or invalid value",
        "  `Rejected`; otherwise `Accepted`, stored in flash and applied at once (a new",
        "  `CentralSystemURL`, `AuthorizationKey` or `HTTPBasicAuthEnable` by reconnecting).",
        "  `HeartbeatInterval` below 10 is accepted and runs at 10 s. `RandomDelayCancel` goes",
        "  back to false after each transaction.",
        "- **Storage**: one CRC-checked settings record per key that differs from its default",
        "  (`c` + a two-letter id), an index record (`cx`) listing them, values longer than one",
        "  record in parts switched atomically by their head record. See docs/storage.md.",
        "",
        "| key | type | access | default | values |",
        "|---|---|---|---|---|",
    ]
    for (const [, name, type, access, dflt, rule] of rows) {
        let values = ""
        if (access === "R" && !rule) values = dflt.startsWith("@") ? "" : "fixed"
        else if (type === "I") values = rule ? rule.replace(/,/g, ", ") : "any integer"
        else if (type === "B") values = "true, false"
        else if (type === "S") values = FORMATS[rule] ?? (rule ? `at most ${rule} characters` : "")
        else if (rule.startsWith("T")) values = `${rule.slice(1).split("/").length} integers: ${rule.slice(1).split("/").join(" ; ")}`
        else if (FORMATS[rule]) values = FORMATS[rule]
        else if (rule) values = `at most ${rule.slice(1)} of the ${setNames[rule[0]]}: ${sets[rule[0]].replace(/,/g, ", ")}`
        const d = BOARD_DEFAULTS[dflt] ?? (dflt === "" ? "(empty)" : `\`${dflt}\``)
        lines.push(`| ${name} | ${TYPES[type]} | ${access} | ${d} | ${values} |`)
    }
    return lines.join("\n") + "\n"
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    const text = generate()
    if (process.argv.includes("--check")) {
        const same = fs.existsSync(OUT) && fs.readFileSync(OUT, "utf8") === text
        if (!same) console.error("docs/configuration.md is out of date: run node tools/gen-config-doc.mjs")
        process.exit(same ? 0 : 1)
    }
    fs.mkdirSync(path.dirname(OUT), { recursive: true })
    fs.writeFileSync(OUT, text)
    console.log(`wrote ${path.relative(ROOT, OUT)}`)
}
