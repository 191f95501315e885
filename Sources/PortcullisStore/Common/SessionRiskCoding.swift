import Foundation
import PortcullisCore

/// How the session history and flags become columns, the same for SQLite and PostgreSQL.
enum SessionRiskCoding {
    static func evidenceJSON(_ evidence: SessionRiskEvidence) -> String {
        StoreCoding.json(evidence)
    }

    static func evidence(_ json: String) -> SessionRiskEvidence? {
        StoreCoding.decode(SessionRiskEvidence.self, json)
    }

    static func observation(
        at: Double, event: String, country: String?, city: String?, latitude: Double?, longitude: Double?, accuracyKm: Double?,
        asn: Int64?, browser: String, os: String, deviceType: String
    ) -> SessionObservation {
        let coordinates = latitude.flatMap { latitude in
            longitude.flatMap { GeoCoordinates(latitude: latitude, longitude: $0, accuracyRadiusKm: accuracyKm) }
        }
        return SessionObservation(
            at: Date(timeIntervalSince1970: at),
            event: SessionObservation.Event(rawValue: event) ?? .signIn,
            place: ObservedPlace(
                countryCode: country, city: city, coordinates: coordinates,
                asn: asn.flatMap { UInt32(exactly: $0) }
            ),
            device: DeviceInfo(browser: browser, os: os, type: DeviceInfo.DeviceType(rawValue: deviceType) ?? .unknown)
        )
    }

    /// `nil` when the evidence cannot be read (written by a newer version): such a row is
    /// skipped rather than failing the whole list.
    static func flag(
        id: String, sessionIDHash: Data, userID: String, evidence: String, action: String, raisedAt: Double,
        steppedUpAt: Double?, dismissedAt: Double?, dismissedBy: String?
    ) -> SessionFlag? {
        guard let hash = SessionIDHash(bytes: Array(sessionIDHash)), let evidence = Self.evidence(evidence) else { return nil }
        return SessionFlag(
            id: id, sessionIDHash: hash, userID: userID, evidence: evidence, action: SessionRiskAction(rawValue: action) ?? .flag,
            raisedAt: Date(timeIntervalSince1970: raisedAt), steppedUpAt: StoreCoding.date(steppedUpAt),
            dismissedAt: StoreCoding.date(dismissedAt), dismissedBy: dismissedBy
        )
    }

    /// The audit entry of a new flag.
    static func flaggedEvent(_ flag: SessionFlag, email: String, audit: AuditContext) -> AuditEvent {
        AuditEvent(audit, action: .sessionFlagged, target: email, before: nil, after: flag.auditValue)
    }
}
