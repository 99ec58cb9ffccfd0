// OCPP 1.6 payload specifications as packed text, checked by one generic validator
// (no code per message or field: see docs/architecture.md, "code size").
//
// A spec is a list of fields "name:T" separated by spaces; "!" after T marks a required
// field. T is one of
//   sN   string of at most N characters (s: any length)
//   i    integer            n  number            b  boolean
//   t    ISO 8601 date-time
//   eX   one of the values of enum X (ENUMS)
//   oX   object of spec X (SPECS)
//   aX   array of objects of spec X; asN: array of strings of at most N characters
// Unknown fields are refused, as the official schemas do (additionalProperties false).
import { parseIso8601 } from "../util/iso8601"

/** CSMS → charge point requests and their nested types ("~" marks a nested type). */
const SPECS =
    "|CancelReservation=reservationId:i!" +
    "|ChangeAvailability=connectorId:i! type:eAvailabilityType!" +
    "|ChangeConfiguration=key:s50! value:s500!" +
    "|ClearCache=" +
    "|ClearChargingProfile=id:i connectorId:i chargingProfilePurpose:ePurpose stackLevel:i" +
    "|DataTransfer=vendorId:s255! messageId:s50 data:s" +
    "|GetCompositeSchedule=connectorId:i! duration:i! chargingRateUnit:eUnit" +
    "|GetConfiguration=key:as50" +
    "|GetDiagnostics=location:s! retries:i retryInterval:i startTime:t stopTime:t" +
    "|GetLocalListVersion=" +
    "|RemoteStartTransaction=connectorId:i idTag:s20! chargingProfile:o~Profile" +
    "|RemoteStopTransaction=transactionId:i!" +
    "|ReserveNow=connectorId:i! expiryDate:t! idTag:s20! parentIdTag:s20 reservationId:i!" +
    "|Reset=type:eResetType!" +
    "|SendLocalList=listVersion:i! localAuthorizationList:a~AuthData updateType:eUpdateType!" +
    "|SetChargingProfile=connectorId:i! csChargingProfiles:o~Profile!" +
    "|TriggerMessage=requestedMessage:eMessageTrigger! connectorId:i" +
    "|UnlockConnector=connectorId:i!" +
    "|UpdateFirmware=location:s! retries:i retrieveDate:t! retryInterval:i" +
    // security extension (OCPP 1.6 security whitepaper edition 2)
    "|CertificateSigned=certificateChain:s10000!" +
    "|DeleteCertificate=certificateHashData:o~CertHash!" +
    "|ExtendedTriggerMessage=requestedMessage:eExtTrigger! connectorId:i" +
    "|GetInstalledCertificateIds=certificateType:eCertUse!" +
    "|GetLog=logType:eLogType! requestId:i! retries:i retryInterval:i log:o~LogParams!" +
    "|InstallCertificate=certificateType:eCertUse! certificate:s5500!" +
    "|SignedUpdateFirmware=retries:i retryInterval:i requestId:i! firmware:o~Firmware!" +
    // nested types
    "|~Profile=chargingProfileId:i! transactionId:i stackLevel:i! chargingProfilePurpose:ePurpose! " +
    "chargingProfileKind:eKind! recurrencyKind:eRecurrency validFrom:t validTo:t chargingSchedule:o~Schedule!" +
    "|~Schedule=duration:i startSchedule:t chargingRateUnit:eUnit! chargingSchedulePeriod:a~Period! minChargingRate:n" +
    "|~Period=startPeriod:i! limit:n! numberPhases:i" +
    "|~AuthData=idTag:s20! idTagInfo:o~IdTagInfo" +
    "|~IdTagInfo=expiryDate:t parentIdTag:s20 status:eAuthorizationStatus!" +
    "|~CertHash=hashAlgorithm:eHashAlgorithm! issuerNameHash:s128! issuerKeyHash:s128! serialNumber:s40!" +
    "|~LogParams=remoteLocation:s512! oldestTimestamp:t latestTimestamp:t" +
    "|~Firmware=location:s512! retrieveDateTime:t! installDateTime:t signingCertificate:s5500! signature:s800!" +
    // CSMS answers to charge point requests (only what the charge point reads)
    "|BootNotification.conf=status:eRegistrationStatus! currentTime:t! interval:i!" +
    "|Authorize.conf=idTagInfo:o~IdTagInfo!" +
    "|StartTransaction.conf=idTagInfo:o~IdTagInfo! transactionId:i!" +
    "|StopTransaction.conf=idTagInfo:o~IdTagInfo" +
    "|Heartbeat.conf=currentTime:t!" +
    "|DataTransfer.conf=status:eDataTransferStatus! data:s" +
    "|"

const ENUMS =
    "|AvailabilityType=Inoperative,Operative" +
    "|ResetType=Hard,Soft" +
    "|UpdateType=Differential,Full" +
    "|Purpose=ChargePointMaxProfile,TxDefaultProfile,TxProfile" +
    "|Kind=Absolute,Recurring,Relative" +
    "|Recurrency=Daily,Weekly" +
    "|Unit=A,W" +
    "|MessageTrigger=BootNotification,DiagnosticsStatusNotification,FirmwareStatusNotification,Heartbeat,MeterValues,StatusNotification" +
    "|ExtTrigger=BootNotification,LogStatusNotification,FirmwareStatusNotification,Heartbeat,MeterValues,SignChargePointCertificate,StatusNotification" +
    "|AuthorizationStatus=Accepted,Blocked,Expired,Invalid,ConcurrentTx" +
    "|RegistrationStatus=Accepted,Pending,Rejected" +
    "|DataTransferStatus=Accepted,Rejected,UnknownMessageId,UnknownVendorId" +
    "|CertUse=CentralSystemRootCertificate,ManufacturerRootCertificate" +
    "|HashAlgorithm=SHA256,SHA384,SHA512" +
    "|LogType=DiagnosticsLog,SecurityLog" +
    "|"

/** True when `name` is an action (or nested type) this table describes. */
export function hasSpec(name: string) {
    return SPECS.indexOf("|" + name + "=") >= 0
}

function tableEntry(table: string, name: string) {
    const key = "|" + name + "="
    const at = table.indexOf(key)
    if (at < 0) return undefined
    const from = at + key.length
    return table.slice(from, table.indexOf("|", from))
}

/** Description of the last validation failure, for the CALLERROR. */
export let validationError = ""

function fail(code: string, what: string) {
    validationError = what
    return code
}

function isInt(v: any) {
    return typeof v === "number" && Math.floor(v) === v && v > -1e15 && v < 1e15
}

/** Check one value against a field type; returns an OCPP-J error code or undefined. */
function checkValue(v: any, type: string, path: string): string {
    const kind = type[0]
    const arg = type.slice(1)
    if (kind === "s") {
        if (typeof v !== "string") return fail("TypeConstraintViolation", path + " must be a string")
        if (arg && v.length > parseInt(arg)) return fail("PropertyConstraintViolation", path + " longer than " + arg)
    } else if (kind === "i") {
        if (!isInt(v)) return fail("TypeConstraintViolation", path + " must be an integer")
    } else if (kind === "n") {
        if (typeof v !== "number" || isNaN(v) || v === Infinity || v === -Infinity)
            return fail("TypeConstraintViolation", path + " must be a number")
    } else if (kind === "b") {
        if (typeof v !== "boolean") return fail("TypeConstraintViolation", path + " must be a boolean")
    } else if (kind === "t") {
        if (typeof v !== "string") return fail("TypeConstraintViolation", path + " must be a date-time string")
        if (isNaN(parseIso8601(v))) return fail("PropertyConstraintViolation", path + " is not an ISO 8601 date-time")
    } else if (kind === "e") {
        if (typeof v !== "string") return fail("TypeConstraintViolation", path + " must be a string")
        if (v.indexOf(",") >= 0 || ("," + tableEntry(ENUMS, arg) + ",").indexOf("," + v + ",") < 0)
            return fail("PropertyConstraintViolation", path + " has an unknown value")
    } else if (kind === "o") {
        return validate(v, arg, path + ".")
    } else if (kind === "a") {
        if (!Array.isArray(v)) return fail("TypeConstraintViolation", path + " must be an array")
        const elem = arg[0] === "~" ? "o" + arg : arg
        for (let i = 0; i < v.length; i++) {
            const r = checkValue(v[i], elem, path + "[" + i + "]")
            if (r) return r
        }
    }
    return undefined
}

/**
 * Validate a payload against the spec of an action or nested type.
 * @returns undefined when valid, else the OCPP-J error code (see validationError)
 */
export function validate(payload: any, specName: string, path = ""): string {
    const spec = tableEntry(SPECS, specName)
    if (spec === undefined) return fail("NotImplemented", specName)
    if (typeof payload !== "object" || payload === null || Array.isArray(payload))
        return fail("FormationViolation", (path || "payload ") + "must be an object")
    const fields = " " + spec + " "
    const keys = Object.keys(payload)
    for (let i = 0; i < keys.length; i++) {
        if (fields.indexOf(" " + keys[i] + ":") < 0)
            return fail("FormationViolation", path + keys[i] + " is not a field of " + specName)
    }
    let pos = 1
    while (pos < fields.length - 1) {
        const end = fields.indexOf(" ", pos)
        const colon = fields.indexOf(":", pos)
        const name = fields.slice(pos, colon)
        let type = fields.slice(colon + 1, end)
        pos = end + 1
        const required = type[type.length - 1] === "!"
        if (required) type = type.slice(0, type.length - 1)
        const v = payload[name]
        if (v === undefined) {
            if (required) return fail("OccurenceConstraintViolation", path + name + " is required")
            continue
        }
        const r = checkValue(v, type, path + name)
        if (r) return r
    }
    return undefined
}
