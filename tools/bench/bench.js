// The web bench: shows the simulated wallbox and drives it through the control API
// (docs/simulator.md); live updates from GET /api/events (server-sent events).
const $ = id => document.getElementById(id)

/** The seed's error table (src/ocpp/core.ts), in bit order. */
const FAULTS = [
    [0x0002, "Residual current"],
    [0x0004, "Ground failure"],
    [0x0008, "Over voltage"],
    [0x0010, "Under voltage"],
    [0x0020, "Over current"],
    [0x0040, "Severe over current"],
    [0x0080, "High temperature"],
    [0x0100, "Control pilot (−12 V)"],
    [0x0200, "Power meter failure"],
    [0x0400, "Power relay fault"],
    [0x0800, "Internal communication"],
    [0x1000, "E-lock failure"],
    [0x2000, "Missing phase"],
    [0x4000, "Modbus communication lost"],
    [0x8000, "Offline storage error"],
]
const hex4 = n => "0x" + n.toString(16).toUpperCase().padStart(4, "0")
const PHASE_TEXT = {
    building: "Building the firmware…",
    booting: "Booting the firmware…",
    connecting: "Connecting to the central system…",
    online: "Online",
    off: "Power off",
    stopped: "Stopped",
    failed: "Bench not reachable",
}
const STEPS = ["building", "booting", "connecting", "online"]

let state = null
/** The running or last transaction and the energy register at its start (CTEP samples). */
let lastTx = null
let lastTxStartWh = 0
let hasCsms = false
let phase = "connecting"

// ---------- control API ----------
async function api(method, path, body) {
    const r = await fetch(path, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
    })
    let j = null
    try {
        j = await r.json()
    } catch {}
    if (!r.ok) throw new Error(j?.error ? `${j.error}` : `${method} ${path}: HTTP ${r.status}`)
    return j
}

function showResult(text, error = false) {
    const el = $("action-result")
    el.textContent = text
    el.classList.toggle("error", error)
}

/** Run a control API action from a button; shows errors next to the controls. */
async function act(label, method, path, body) {
    try {
        const s = await api(method, path, body)
        if (s && "connectorStatus" in s) render(s)
        showResult(`${label}: done`)
    } catch (e) {
        showResult(`${label}: ${e.message}`, true)
    }
}

// ---------- phase and progress ----------
function setPhase(p) {
    phase = p
    const el = $("phase")
    el.dataset.phase = p
    $("phase-text").textContent = PHASE_TEXT[p] ?? p
    const idx = STEPS.indexOf(p)
    const starting = p === "building" || p === "booting" || (p === "connecting" && !state?.registration)
    $("progress").hidden = !starting
    document.querySelectorAll(".steps li").forEach((li, i) => {
        li.classList.toggle("done", idx > i)
        li.classList.toggle("current", idx === i)
    })
}

// ---------- the charger ----------
const fmt = (v, unit, digits = 0) => (v === null || v === undefined ? "—" : `${Number(v).toFixed(digits)} ${unit}`)
function setText(id, text, cls) {
    const el = $(id)
    if (el.textContent !== text) el.textContent = text
    if (cls !== undefined) el.className = cls
}

function render(s) {
    state = s
    setText("v-status", s.connectorStatus ?? "—")
    $("v-status").dataset.s = s.connectorStatus ?? ""
    setText("v-pilot", s.pilotState ?? "—")
    setText("v-pilot-fw", s.firmwarePilotState ? `(firmware: ${s.firmwarePilotState})` : "")
    setText("v-duty", s.pwmDutyPercent === 100 ? "100 % (+12 V, no PWM)" : fmt(s.pwmDutyPercent, "%", 1))
    setText("v-offered", fmt(s.offeredCurrentA, "A", 1))
    setText(
        "v-contactor",
        (s.contactorClosed ? "closed" : "open") + (s.contactorWelded ? " (welded)" : ""),
        s.contactorWelded ? "alarm" : s.contactorClosed ? "on" : "off"
    )
    setText("v-energy", fmt(s.energyWh, "Wh"))
    setText("v-power", s.powerW >= 1000 ? fmt(s.powerW / 1000, "kW", 2) : fmt(s.powerW, "W"))
    setText("v-current", fmt(s.currentA, "A", 1))
    setText("v-tx", s.transactionId === null ? "none" : String(s.transactionId))
    setText("v-tag", s.idTag ?? "—")
    setText("v-auth", s.lastAuthorization ?? "—")
    setText("v-price", s.priceText ?? "—")
    setText("v-cost", s.costText ?? "—")
    setText("v-qr", s.qrCodeText ?? "—")
    if (s.transactionId !== null && s.transactionId !== lastTx) {
        lastTx = s.transactionId
        lastTxStartWh = s.energyWh ?? 0
    }
    setText("v-link", s.ocppConnected ? "connected" : "not connected", s.ocppConnected ? "on" : "alarm")
    setText("v-reg", s.registration || "—")
    setText("v-net", s.network === null ? "direct (no drop)" : s.network, s.network === "down" ? "alarm" : "")
    setText("v-powered", s.powered ? "on" : `off (cuts: ${s.powerCuts})`, s.powered ? "on" : "alarm")
    const fb = s.faultBits | s.firmwareFaults
    setText("v-faults", fb ? `board ${hex4(s.faultBits)}, firmware ${hex4(s.firmwareFaults)}` : "none", fb ? "alarm" : "")
    $("ventilation").checked = !!s.ev?.ventilation
    $("weld").checked = !!s.contactorWelded
    for (const [bit] of FAULTS) {
        const box = $(`fault-${bit}`)
        if (box && document.activeElement !== box) box.checked = (s.faultBits & bit) !== 0
        box?.parentElement.classList.toggle("active", (s.firmwareFaults & bit) !== 0)
    }
    sample(s)
    maybeRefreshLimit(s)
}

// ChargingLimitedBy: asked over OCPP when the offer or the link changes
// (at most every 5 s: each question shows in the OCPP log)
let limitKey = ""
let limitTimer = null
let limitAskedAt = 0
function maybeRefreshLimit(s) {
    if (!hasCsms || !s.ocppConnected || s.registration !== "Accepted") return
    const key = `${Math.round(s.offeredCurrentA)}|${s.connectorStatus}`
    if (key === limitKey || limitTimer) return
    limitTimer = setTimeout(() => {
        limitTimer = null
        limitAskedAt = Date.now()
        limitKey = `${Math.round(state.offeredCurrentA)}|${state.connectorStatus}`
        refreshLimit()
    }, Math.max(300, limitAskedAt + 5000 - Date.now()))
}
async function refreshLimit() {
    if (!hasCsms) return setText("v-limit", "needs the embedded central system")
    try {
        const r = await api("POST", "/api/csms/call", { action: "GetConfiguration", payload: { key: ["ChargingLimitedBy"] } })
        const v = r.result?.configurationKey?.find(k => k.key === "ChargingLimitedBy")?.value
        setText("v-limit", r.error ? `(${r.code || r.error})` : v ?? "unknown key")
    } catch (e) {
        setText("v-limit", `(${e.message})`)
    }
}

// ---------- chart ----------
const WINDOW_S = 300
const series = [[], [], [], []] // time (s), offered A, drawn A, power kW
let chart = null
let lastSampleAt = 0
function sample(s) {
    const t = Date.now() / 1000
    if (t - lastSampleAt < 0.2) return
    lastSampleAt = t
    series[0].push(t)
    series[1].push(s.offeredCurrentA)
    series[2].push(s.currentA)
    series[3].push(s.powerW / 1000)
    while (series[0].length && series[0][0] < t - WINDOW_S) series.forEach(a => a.shift())
    chart?.setData(series)
}
function makeChart() {
    const el = $("chart")
    if (!window.uPlot) {
        el.textContent = "The charting library did not load."
        return
    }
    const width = () => Math.max(260, el.clientWidth)
    chart = new uPlot(
        {
            width: width(),
            height: 260,
            scales: { x: { time: true }, A: { range: (u, min, max) => [0, Math.max(8, max * 1.1)] }, kW: { range: (u, min, max) => [0, Math.max(2, max * 1.1)] } },
            axes: [
                {},
                { scale: "A", label: "A", size: 48 },
                { scale: "kW", label: "kW", side: 1, grid: { show: false }, size: 48 },
            ],
            series: [
                {},
                { label: "offered (A)", scale: "A", stroke: "#0b5cad", width: 2, value: (u, v) => (v == null ? "—" : v.toFixed(1)) },
                { label: "drawn (A)", scale: "A", stroke: "#15803d", width: 2, dash: [6, 3], value: (u, v) => (v == null ? "—" : v.toFixed(1)) },
                { label: "power (kW)", scale: "kW", stroke: "#b45309", width: 2, value: (u, v) => (v == null ? "—" : v.toFixed(2)) },
            ],
        },
        series,
        el
    )
    new ResizeObserver(() => chart.setSize({ width: width(), height: 260 })).observe(el)
    // keep the time axis moving when nothing changes
    setInterval(() => state && (lastSampleAt = 0, sample(state)), 1000)
}

// ---------- OCPP log ----------
const TYPE = { 2: "call", 3: "result", 4: "error" }
const seen = new Set()
const byKey = new Map() // `${id}|${dir}|${type}` → li
function pairOf(m) {
    // a CALL from one side is answered by the other side with the same id
    const other = m.dir === "in" ? "out" : "in"
    if (m.type === 2) return byKey.get(`${m.id}|${other}|3`) ?? byKey.get(`${m.id}|${other}|4`)
    return byKey.get(`${m.id}|${other}|2`)
}
function highlight(li) {
    document.querySelectorAll(".log li.hl").forEach(e => e.classList.remove("hl"))
    li.classList.add("hl")
    const pair = pairOf(li.msg)
    if (pair) {
        pair.classList.add("hl")
        pair.scrollIntoView({ block: "nearest" })
    }
}
function addMessage(m) {
    if (seen.has(m.seq)) return
    seen.add(m.seq)
    const li = document.createElement("li")
    li.msg = m
    li.dataset.seq = m.seq
    li.dataset.dir = m.dir
    li.dataset.action = m.action ?? ""
    li.dataset.type = TYPE[m.type] ?? "?"
    const btn = document.createElement("button")
    btn.type = "button"
    btn.className = "entry"
    btn.setAttribute("aria-expanded", "false")
    const time = new Date(m.time).toLocaleTimeString([], { hour12: false }) + "." + String(new Date(m.time).getMilliseconds()).padStart(3, "0")
    const kind = TYPE[m.type] ?? "?"
    const cells = [
        ["t", time],
        ["d " + m.dir, m.dir === "in" ? "←" : "→"],
        ["k" + (m.type === 4 ? " err" : ""), kind],
        ["a", m.action ?? "?"],
        ["i", String(m.id ?? "").slice(0, 12)],
    ]
    for (const [cls, text] of cells) {
        const span = document.createElement("span")
        span.className = cls
        span.textContent = text
        btn.append(span)
    }
    btn.setAttribute(
        "aria-label",
        `${time} ${m.dir === "in" ? "from the charge point" : "to the charge point"} ${kind} ${m.action ?? ""} id ${m.id ?? ""}`
    )
    const pre = document.createElement("pre")
    pre.textContent = JSON.stringify(m.payload, null, 2)
    pre.hidden = true
    btn.addEventListener("click", () => {
        pre.hidden = !pre.hidden
        btn.setAttribute("aria-expanded", String(!pre.hidden))
        highlight(li)
    })
    li.append(btn, pre)
    if (m.id != null && m.type) byKey.set(`${m.id}|${m.dir}|${m.type}`, li)
    applyFilter(li)
    const log = $("log")
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40
    log.append(li)
    while (log.children.length > 1500) {
        const old = log.firstElementChild
        byKey.delete(`${old.msg.id}|${old.msg.dir}|${old.msg.type}`)
        old.remove()
    }
    if (atBottom) log.scrollTop = log.scrollHeight
    updateCount()
}
function applyFilter(li) {
    const text = $("log-filter").value.trim().toLowerCase()
    const dir = $("log-dir").value
    const hay = `${li.dataset.action} ${li.dataset.type} ${li.dataset.dir}`.toLowerCase()
    li.hidden = (dir && li.dataset.dir !== dir) || (text && !hay.includes(text))
}
function updateCount() {
    const all = $("log").children.length
    const shown = [...$("log").children].filter(li => !li.hidden).length
    $("log-count").textContent = shown === all ? `${all} messages` : `${shown} of ${all} messages`
}
function refilter() {
    for (const li of $("log").children) applyFilter(li)
    updateCount()
}

async function loadLog() {
    try {
        const r = await api("GET", "/api/csms/log")
        for (const m of r.messages) addMessage(m)
    } catch {}
}

// ---------- central system commands ----------
function commandPayload(cmd, btn) {
    switch (cmd) {
        case "RemoteStartTransaction":
            return { idTag: $("remote-tag").value.trim(), connectorId: 1 }
        case "RemoteStopTransaction":
            if (state?.transactionId == null) throw new Error("no transaction in progress")
            return { transactionId: state.transactionId }
        case "Reset":
            return { type: btn.dataset.type }
        case "ChangeAvailability":
            return { connectorId: Number($("avail-conn").value), type: btn.dataset.type }
        case "GetConfiguration": {
            const k = $("cfg-key").value.trim()
            return k ? { key: [k] } : {}
        }
        case "ChangeConfiguration":
            if (btn?.dataset.key) return { key: btn.dataset.key, value: btn.dataset.value }
            return { key: $("cfg-key").value.trim(), value: $("cfg-value").value }
        case "DataTransfer":
            return ctepSample(btn.dataset.msg)
        case "UnlockConnector":
            return { connectorId: 1 }
        case "TriggerMessage":
            return { requestedMessage: $("trigger").value, ...($("trigger").value === "StatusNotification" || $("trigger").value === "MeterValues" ? { connectorId: 1 } : {}) }
        case "SendLocalList":
            return JSON.parse($("local-list").value)
        case "ClearCache":
            return {}
    }
    return {}
}
/** The seed's CTEP examples (§6.2.2) for the session on the bench. */
function ctepSample(messageId) {
    let data
    if (messageId === "SetUserPrice") data = { idToken: state?.idTag || $("remote-tag").value.trim(), priceText: "$0.12/kWh, no idle fee" }
    else {
        if (lastTx === null) throw new Error("no transaction yet")
        const cost = Math.round((((state?.energyWh ?? 0) - lastTxStartWh) / 1000) * 12.3) / 100
        data =
            messageId === "RunningCost"
                ? { transactionId: lastTx, timestamp: new Date().toISOString(), meterValue: state?.energyWh ?? 0, cost, state: "Charging",
                    chargingPrice: { kWhPrice: 0.123, hourPrice: 0, flatFee: 0 }, idlePrice: { graceMinutes: 30, hourPrice: 1 } }
                : { transactionId: lastTx, cost, priceText: `$${cost.toFixed(2)} @ $0.123/kWh. Visit www.cpo.com/invoices/13546 for an invoice of your session.`,
                    qrCodeText: "https://www.cpo.com/invoices/13546" }
    }
    return { vendorId: messageId === "SetUserPrice" ? "ABB" : "org.openchargealliance.costmsg", messageId, data: JSON.stringify(data) }
}

async function sendCommand(cmd, btn) {
    const out = $("csms-result")
    let payload
    try {
        payload = commandPayload(cmd, btn)
    } catch (e) {
        out.textContent = `${cmd}: ${e.message}`
        return
    }
    out.textContent = `${cmd} ${JSON.stringify(payload)} …`
    try {
        const r = await api("POST", "/api/csms/call", { action: cmd, payload })
        out.textContent = r.error
            ? `${cmd} → error ${r.code ?? ""}: ${r.error}`
            : `${cmd} → ${JSON.stringify(r.result, null, 2)}`
    } catch (e) {
        out.textContent = `${cmd} → ${e.message}`
    }
}

// ---------- live updates ----------
function connectEvents() {
    const es = new EventSource("/api/events")
    es.addEventListener("hello", e => {
        const h = JSON.parse(e.data)
        hasCsms = h.csms
        $("cp-id").textContent = h.id ?? "—"
        document.title = `${h.id ?? "Open Wallbox"} — web bench`
        $("no-csms").hidden = hasCsms
        $("csms-controls").hidden = !hasCsms
        $("log-empty").hidden = hasCsms
        $("limit-refresh").hidden = !hasCsms
        if (!hasCsms) setText("v-limit", "needs the embedded central system")
        setPhase(h.phase)
        if (hasCsms) loadLog()
    })
    es.addEventListener("phase", e => setPhase(JSON.parse(e.data).phase))
    es.addEventListener("state", e => {
        render(JSON.parse(e.data))
        if (!["building", "booting"].includes(phase)) setPhase(phase)
    })
    es.addEventListener("ocpp", e => addMessage(JSON.parse(e.data)))
    es.addEventListener("progress", e => ($("progress-line").textContent = JSON.parse(e.data).line))
    es.onerror = () => {
        if (es.readyState === EventSource.CLOSED) setPhase("failed")
        else setText("phase-text", "Reconnecting to the bench…")
    }
}

// ---------- wiring ----------
function wire() {
    const faults = $("faults")
    for (const [bit, name] of FAULTS) {
        const label = document.createElement("label")
        const box = document.createElement("input")
        box.type = "checkbox"
        box.id = `fault-${bit}`
        box.addEventListener("change", () =>
            act(`fault ${hex4(bit)}`, box.checked ? "POST" : "DELETE", "/api/fault", { code: hex4(bit) })
        )
        const code = document.createElement("code")
        code.textContent = hex4(bit)
        label.append(box, code, document.createTextNode(name))
        faults.append(label)
    }
    $("btn-clear-faults").addEventListener("click", () => act("clear faults", "DELETE", "/api/fault"))
    $("btn-plug").addEventListener("click", () => act("plug", "POST", "/api/ev/plug"))
    $("btn-unplug").addEventListener("click", () => act("unplug", "POST", "/api/ev/unplug"))
    $("charge-form").addEventListener("submit", e => {
        e.preventDefault()
        act("charge", "POST", "/api/ev/charge", { maxCurrentA: Number($("max-current").value) })
    })
    $("btn-pause").addEventListener("click", () => act("pause", "POST", "/api/ev/pause"))
    $("ventilation").addEventListener("change", e => act("ventilation", "POST", "/api/ev/ventilation", { on: e.target.checked }))
    $("weld").addEventListener("change", e => act("weld", "POST", "/api/contactor/weld", { welded: e.target.checked }))
    $("card-form").addEventListener("submit", e => {
        e.preventDefault()
        act(`card ${$("card-uid").value}`, "POST", "/api/rfid", { uid: $("card-uid").value.trim() })
    })
    document.querySelectorAll(".preset").forEach(b =>
        b.addEventListener("click", () => {
            $("card-uid").value = b.dataset.uid
            act(`card ${b.dataset.uid}`, "POST", "/api/rfid", { uid: b.dataset.uid })
        })
    )
    $("btn-felica").addEventListener("click", () =>
        act("FeliCa card", "POST", "/api/rfid", { felica: { idm: "012E4CE082548F69", dataFormatCode: "0077", eneKeyData: "4020900000020539" } })
    )
    $("btn-power-cut").addEventListener("click", () => act("power cut", "POST", "/api/power/cut"))
    $("btn-power-on").addEventListener("click", () => act("power on", "POST", "/api/power/on"))
    $("btn-net-drop").addEventListener("click", () => act("network drop", "POST", "/api/network/drop"))
    $("btn-net-restore").addEventListener("click", () => act("network restore", "POST", "/api/network/restore"))
    $("limit-refresh").addEventListener("click", refreshLimit)
    document.querySelectorAll("[data-cmd]").forEach(b => {
        if (b.type === "submit") return
        b.addEventListener("click", () => sendCommand(b.dataset.cmd, b))
    })
    $("config-form").addEventListener("submit", e => {
        e.preventDefault()
        sendCommand("ChangeConfiguration", e.submitter)
    })
    $("log-filter").addEventListener("input", refilter)
    $("log-dir").addEventListener("change", refilter)
}

wire()
makeChart()
connectEvents()
