import Foundation
import GRDB
import PortcullisCore

extension SQLiteStore: SessionRiskStore {
    public func riskHistory(userID: String, since: Date, limit: Int) async throws -> [SessionObservation] {
        try await read("read session history") { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM session_history WHERE user_id = ? AND at >= ? ORDER BY at DESC, id DESC LIMIT ?",
                arguments: [userID, StoreCoding.seconds(since), max(0, limit)]
            ).map(Self.observation)
        }
    }

    public func recordSessionRisk(_ record: SessionRiskRecord) async throws -> SessionRiskRecorded {
        try await write("record session risk") { db in
            let hash = Data(record.sessionIDHash.bytes)
            if let observation = record.observation {
                try Self.insertObservation(db, observation, userID: record.userID)
            }
            let email = try String.fetchOne(db, sql: "SELECT email FROM users WHERE id = ?", arguments: [record.userID]) ?? record.userID
            var raised: [SessionFlag] = []
            var carried = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM session_flags WHERE session_id_hash = ?", arguments: [hash]) ?? 0
            for flag in record.flags where carried < SessionRiskRecord.maximumFlagsPerSession {
                try db.execute(
                    sql: """
                        INSERT OR IGNORE INTO session_flags (id, session_id_hash, user_id, kind, subject, action, reason, evidence,
                            raised_at, stepped_up_at, dismissed_at, dismissed_by)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)
                        """,
                    arguments: [
                        flag.id, hash, record.userID, flag.kind.rawValue, flag.evidence.subject, flag.action.rawValue, flag.reason,
                        SessionRiskCoding.evidenceJSON(flag.evidence), StoreCoding.seconds(flag.raisedAt),
                        flag.steppedUpAt.map(StoreCoding.seconds),
                    ]
                )
                guard db.changesCount > 0 else { continue }
                carried += 1
                raised.append(flag)
                try Self.appendAudit(db, SessionRiskCoding.flaggedEvent(flag, email: email, audit: record.audit))
            }
            let at = StoreCoding.seconds(record.audit.at)
            var revoked = false
            if raised.contains(where: { $0.action == .deny }) {
                try db.execute(
                    sql: "UPDATE sessions SET revoked_at = ?, revoked_by = ?, revoked_reason = ? WHERE id_hash = ? AND revoked_at IS NULL",
                    arguments: [at, SessionRiskRecord.actor, SessionRiskAction.revocationReason, hash]
                )
                revoked = db.changesCount > 0
            }
            if raised.contains(where: \.awaitsStepUp) {
                try db.execute(
                    sql: "UPDATE sessions SET step_up_required_at = ? WHERE id_hash = ? AND step_up_required_at IS NULL",
                    arguments: [at, hash]
                )
            }
            let awaits = try Self.awaitsStepUp(db, hash)
            return SessionRiskRecorded(raised: raised, revoked: revoked, awaitsStepUp: awaits)
        }
    }

    public func sessionFlags(userID: String) async throws -> [SessionFlag] {
        try await read("read session flags") { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM session_flags WHERE user_id = ? ORDER BY raised_at DESC, id", arguments: [userID]
            ).compactMap(Self.flag)
        }
    }

    public func flaggedSessions(now: Date, limit: Int) async throws -> [FlaggedSession] {
        try await read("list flagged sessions") { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT s.*, u.email AS user_email, u.name AS user_name, MAX(f.raised_at) AS flagged_at
                    FROM sessions s JOIN users u ON u.id = s.user_id JOIN session_flags f ON f.session_id_hash = s.id_hash
                    WHERE s.revoked_at IS NULL AND s.absolute_expires_at > ? AND f.dismissed_at IS NULL
                    GROUP BY s.id_hash ORDER BY flagged_at DESC LIMIT ?
                    """,
                arguments: [StoreCoding.seconds(now), max(0, limit)]
            )
            return try rows.compactMap { row -> FlaggedSession? in
                guard let session = SQLiteRows.session(row) else { return nil }
                let flags = try Row.fetchAll(
                    db, sql: "SELECT * FROM session_flags WHERE session_id_hash = ? ORDER BY raised_at DESC, id",
                    arguments: [Data(session.idHash.bytes)]
                ).compactMap(Self.flag)
                return FlaggedSession(session: session, email: row["user_email"], name: row["user_name"], flags: flags)
            }
        }
    }

    public func dismissSessionFlag(id: String, audit: AuditContext) async throws -> SessionFlag? {
        try await write("dismiss session flag") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM session_flags WHERE id = ?", arguments: [id]),
                  let flag = Self.flag(row) else { return nil }
            guard flag.dismissedAt == nil else { return flag }
            let at = StoreCoding.seconds(audit.at)
            try db.execute(
                sql: "UPDATE session_flags SET dismissed_at = ?, dismissed_by = ? WHERE id = ?",
                arguments: [at, audit.actor, id]
            )
            let hash = Data(flag.sessionIDHash.bytes)
            if try !Self.awaitsStepUp(db, hash) {
                try db.execute(sql: "UPDATE sessions SET step_up_required_at = NULL WHERE id_hash = ?", arguments: [hash])
            }
            var dismissed = flag
            dismissed.dismissedAt = audit.at
            dismissed.dismissedBy = audit.actor
            let email = try String.fetchOne(db, sql: "SELECT email FROM users WHERE id = ?", arguments: [flag.userID]) ?? flag.userID
            try Self.appendAudit(db, AuditEvent(
                audit, action: .sessionFlagDismissed, target: email, before: flag.auditValue, after: dismissed.auditValue
            ))
            return dismissed
        }
    }

    public func continueSteppedUpSession(from old: SessionIDHash, to new: SessionIDHash, audit: AuditContext) async throws -> Int {
        try await write("continue a stepped-up session") { db in
            let oldHash = Data(old.bytes)
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM session_flags WHERE session_id_hash = ? AND dismissed_at IS NULL", arguments: [oldHash]
            )
            let flags = rows.compactMap(Self.flag)
            guard !flags.isEmpty else { return 0 }
            let at = StoreCoding.seconds(audit.at)
            try db.execute(
                sql: """
                    UPDATE OR IGNORE session_flags SET session_id_hash = ?, stepped_up_at = COALESCE(stepped_up_at, ?)
                    WHERE session_id_hash = ? AND dismissed_at IS NULL
                        AND user_id = (SELECT user_id FROM sessions WHERE id_hash = ?)
                    """,
                arguments: [Data(new.bytes), at, oldHash, Data(new.bytes)]
            )
            let moved = db.changesCount
            guard moved > 0 else { return 0 }
            let userID = flags[0].userID
            let email = try String.fetchOne(db, sql: "SELECT email FROM users WHERE id = ?", arguments: [userID]) ?? userID
            try Self.appendAudit(db, AuditEvent(
                audit, action: .sessionSteppedUp, target: email, before: nil,
                after: .object([
                    "from_session": .string(old.description), "to_session": .string(new.description),
                    "flags": .array(flags.map { .string($0.id) }),
                ])
            ))
            return moved
        }
    }

    public func pruneSessionHistory(before cutoff: Date) async throws -> Int {
        try await write("prune session history") { db in
            try db.execute(sql: "DELETE FROM session_history WHERE at < ?", arguments: [StoreCoding.seconds(cutoff)])
            return db.changesCount
        }
    }

    // MARK: rows

    static func insertObservation(_ db: Database, _ observation: SessionObservation, userID: String) throws {
        let place = observation.place
        try db.execute(
            sql: """
                INSERT INTO session_history (user_id, at, event, country, city, latitude, longitude, accuracy_km, asn, browser, os,
                    device_type)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                userID, StoreCoding.seconds(observation.at), observation.event.rawValue, place.countryCode, place.city,
                place.coordinates?.latitude, place.coordinates?.longitude, place.coordinates?.accuracyRadiusKm,
                place.asn.map { Int64($0) }, observation.device.browser, observation.device.os, observation.device.type.rawValue,
            ]
        )
    }

    /// Any flag of the session still waits for a fresh sign-in.
    static func awaitsStepUp(_ db: Database, _ hash: Data) throws -> Bool {
        try Bool.fetchOne(
            db,
            sql: """
                SELECT EXISTS (SELECT 1 FROM session_flags WHERE session_id_hash = ? AND action = 'step_up'
                    AND stepped_up_at IS NULL AND dismissed_at IS NULL)
                """,
            arguments: [hash]
        ) ?? false
    }

    static func observation(_ row: Row) -> SessionObservation {
        SessionRiskCoding.observation(
            at: row["at"], event: row["event"], country: row["country"], city: row["city"], latitude: row["latitude"],
            longitude: row["longitude"], accuracyKm: row["accuracy_km"], asn: row["asn"], browser: row["browser"], os: row["os"],
            deviceType: row["device_type"]
        )
    }

    static func flag(_ row: Row) -> SessionFlag? {
        SessionRiskCoding.flag(
            id: row["id"], sessionIDHash: row["session_id_hash"], userID: row["user_id"], evidence: row["evidence"],
            action: row["action"], raisedAt: row["raised_at"], steppedUpAt: row["stepped_up_at"], dismissedAt: row["dismissed_at"],
            dismissedBy: row["dismissed_by"]
        )
    }
}
