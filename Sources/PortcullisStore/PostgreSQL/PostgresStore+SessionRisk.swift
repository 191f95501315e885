import Foundation
import PortcullisCore
import PostgresNIO

extension PostgresStore: SessionRiskStore {
    public func riskHistory(userID: String, since: Date, limit: Int) async throws -> [SessionObservation] {
        try await read("read session history") { connection in
            try await connection.all(
                """
                SELECT * FROM session_history WHERE user_id = \(userID) AND at >= \(StoreCoding.seconds(since))
                ORDER BY at DESC, id DESC LIMIT \(max(0, limit))
                """,
                logger: logger, Self.observation
            )
        }
    }

    public func recordSessionRisk(_ record: SessionRiskRecord) async throws -> SessionRiskRecorded {
        try await write("record session risk") { connection in
            let hash = Data(record.sessionIDHash.bytes)
            if let observation = record.observation {
                try await insertObservation(connection, observation, userID: record.userID)
            }
            let email = try await connection.scalar("SELECT email FROM users WHERE id = \(record.userID)", as: String.self, logger: logger)
                ?? record.userID
            var raised: [SessionFlag] = []
            // Serialises writers of this session's flags, for the count below.
            try await connection.query("SELECT 1 FROM sessions WHERE id_hash = \(hash) FOR UPDATE", logger: logger)
            var carried = try await connection.scalar(
                "SELECT COUNT(*)::BIGINT FROM session_flags WHERE session_id_hash = \(hash)", as: Int64.self, logger: logger
            ) ?? 0
            for flag in record.flags where carried < SessionRiskRecord.maximumFlagsPerSession {
                let inserted = try await connection.count(
                    """
                    INSERT INTO session_flags (id, session_id_hash, user_id, kind, subject, action, reason, evidence, raised_at,
                        stepped_up_at)
                    VALUES (\(flag.id), \(hash), \(record.userID), \(flag.kind.rawValue), \(flag.evidence.subject),
                        \(flag.action.rawValue), \(flag.reason), \(SessionRiskCoding.evidenceJSON(flag.evidence)),
                        \(StoreCoding.seconds(flag.raisedAt)), \(flag.steppedUpAt.map(StoreCoding.seconds)))
                    ON CONFLICT DO NOTHING RETURNING 1
                    """,
                    logger: logger
                )
                guard inserted > 0 else { continue }
                carried += 1
                raised.append(flag)
                _ = try await appendAudit(connection, SessionRiskCoding.flaggedEvent(flag, email: email, audit: record.audit))
            }
            let at = StoreCoding.seconds(record.audit.at)
            var revoked = false
            if raised.contains(where: { $0.action == .deny }) {
                revoked = try await connection.count(
                    """
                    UPDATE sessions SET revoked_at = \(at), revoked_by = \(SessionRiskRecord.actor),
                        revoked_reason = \(SessionRiskAction.revocationReason)
                    WHERE id_hash = \(hash) AND revoked_at IS NULL RETURNING 1
                    """,
                    logger: logger
                ) > 0
            }
            var marked = false
            if raised.contains(where: \.awaitsStepUp) {
                marked = try await connection.count(
                    "UPDATE sessions SET step_up_required_at = \(at) WHERE id_hash = \(hash) AND step_up_required_at IS NULL RETURNING 1",
                    logger: logger
                ) > 0
            }
            // Every instance drops the session from its cache: the next request reads the
            // revocation or the step-up mark.
            if revoked {
                try await notify(.sessionsRevoked(sessions: [record.sessionIDHash], users: []), on: connection)
            } else if marked {
                try await notify(.sessionsChanged(sessions: [record.sessionIDHash]), on: connection)
            }
            let awaits = try await awaitsStepUp(connection, hash)
            return SessionRiskRecorded(raised: raised, revoked: revoked, awaitsStepUp: awaits)
        }
    }

    public func sessionFlags(userID: String) async throws -> [SessionFlag] {
        try await read("read session flags") { connection in
            try await connection.all(
                "SELECT * FROM session_flags WHERE user_id = \(userID) ORDER BY raised_at DESC, id", logger: logger, Self.flag
            )
        }
    }

    public func flaggedSessions(now: Date, limit: Int) async throws -> [FlaggedSession] {
        try await read("list flagged sessions") { connection in
            let found = try await connection.all(
                """
                SELECT s.*, u.email AS user_email, u.name AS user_name, f.flagged_at
                FROM sessions s JOIN users u ON u.id = s.user_id
                JOIN (SELECT session_id_hash, MAX(raised_at) AS flagged_at FROM session_flags WHERE dismissed_at IS NULL
                      GROUP BY session_id_hash) f ON f.session_id_hash = s.id_hash
                WHERE s.revoked_at IS NULL AND s.absolute_expires_at > \(StoreCoding.seconds(now))
                ORDER BY f.flagged_at DESC LIMIT \(max(0, limit))
                """,
                logger: logger
            ) { row -> (SessionRecord, String, String?)? in
                guard let session = try PostgresRows.session(row) else { return nil }
                let r = row.makeRandomAccess()
                return (session, try r["user_email"].decode(String.self), try r["user_name"].decode(String?.self))
            }
            var result: [FlaggedSession] = []
            for (session, email, name) in found {
                let flags = try await connection.all(
                    "SELECT * FROM session_flags WHERE session_id_hash = \(Data(session.idHash.bytes)) ORDER BY raised_at DESC, id",
                    logger: logger, Self.flag
                )
                result.append(FlaggedSession(session: session, email: email, name: name, flags: flags))
            }
            return result
        }
    }

    public func dismissSessionFlag(id: String, audit: AuditContext) async throws -> SessionFlag? {
        try await write("dismiss session flag") { connection in
            guard let flag = try await connection.first("SELECT * FROM session_flags WHERE id = \(id) FOR UPDATE", logger: logger, Self.flag)
            else { return nil }
            guard flag.dismissedAt == nil else { return flag }
            let at = StoreCoding.seconds(audit.at)
            try await connection.query(
                "UPDATE session_flags SET dismissed_at = \(at), dismissed_by = \(audit.actor) WHERE id = \(id)", logger: logger
            )
            let hash = Data(flag.sessionIDHash.bytes)
            if try await !awaitsStepUp(connection, hash) {
                let cleared = try await connection.count(
                    "UPDATE sessions SET step_up_required_at = NULL WHERE id_hash = \(hash) AND step_up_required_at IS NOT NULL RETURNING 1",
                    logger: logger
                )
                if cleared > 0 { try await notify(.sessionsChanged(sessions: [flag.sessionIDHash]), on: connection) }
            }
            var dismissed = flag
            dismissed.dismissedAt = audit.at
            dismissed.dismissedBy = audit.actor
            let email = try await connection.scalar("SELECT email FROM users WHERE id = \(flag.userID)", as: String.self, logger: logger)
                ?? flag.userID
            _ = try await appendAudit(connection, AuditEvent(
                audit, action: .sessionFlagDismissed, target: email, before: flag.auditValue, after: dismissed.auditValue
            ))
            return dismissed
        }
    }

    public func continueSteppedUpSession(from old: SessionIDHash, to new: SessionIDHash, audit: AuditContext) async throws -> Int {
        try await write("continue a stepped-up session") { connection in
            let oldHash = Data(old.bytes)
            let newHash = Data(new.bytes)
            let at = StoreCoding.seconds(audit.at)
            // A flag the new session already carries (the same kind and subject) stays behind.
            let moved = try await connection.all(
                """
                UPDATE session_flags f SET session_id_hash = \(newHash), stepped_up_at = COALESCE(f.stepped_up_at, \(at))
                WHERE f.session_id_hash = \(oldHash) AND f.dismissed_at IS NULL
                    AND f.user_id = (SELECT user_id FROM sessions WHERE id_hash = \(newHash))
                    AND NOT EXISTS (SELECT 1 FROM session_flags o WHERE o.session_id_hash = \(newHash) AND o.kind = f.kind
                        AND o.subject = f.subject)
                RETURNING f.id, f.user_id
                """,
                logger: logger
            ) { row -> (String, String) in
                let (id, user) = try row.decode((String, String).self)
                return (id, user)
            }
            guard let userID = moved.first?.1 else { return 0 }
            let email = try await connection.scalar("SELECT email FROM users WHERE id = \(userID)", as: String.self, logger: logger) ?? userID
            _ = try await appendAudit(connection, AuditEvent(
                audit, action: .sessionSteppedUp, target: email, before: nil,
                after: .object([
                    "from_session": .string(old.description), "to_session": .string(new.description),
                    "flags": .array(moved.map { .string($0.0) }),
                ])
            ))
            return moved.count
        }
    }

    public func pruneSessionHistory(before cutoff: Date) async throws -> Int {
        try await write("prune session history") { connection in
            try await connection.count(
                "DELETE FROM session_history WHERE at < \(StoreCoding.seconds(cutoff)) RETURNING 1", logger: logger
            )
        }
    }

    // MARK: rows

    func insertObservation(_ connection: PostgresConnection, _ observation: SessionObservation, userID: String) async throws {
        let place = observation.place
        try await connection.query(
            """
            INSERT INTO session_history (user_id, at, event, country, city, latitude, longitude, accuracy_km, asn, browser, os,
                device_type)
            VALUES (\(userID), \(StoreCoding.seconds(observation.at)), \(observation.event.rawValue), \(place.countryCode),
                \(place.city), \(place.coordinates?.latitude), \(place.coordinates?.longitude),
                \(place.coordinates?.accuracyRadiusKm), \(place.asn.map { Int64($0) }), \(observation.device.browser),
                \(observation.device.os), \(observation.device.type.rawValue))
            """,
            logger: logger
        )
    }

    func awaitsStepUp(_ connection: PostgresConnection, _ hash: Data) async throws -> Bool {
        try await connection.scalar(
            """
            SELECT EXISTS (SELECT 1 FROM session_flags WHERE session_id_hash = \(hash) AND action = 'step_up'
                AND stepped_up_at IS NULL AND dismissed_at IS NULL)
            """,
            as: Bool.self, logger: logger
        ) ?? false
    }

    static func observation(_ row: PostgresRow) throws -> SessionObservation {
        let r = row.makeRandomAccess()
        return SessionRiskCoding.observation(
            at: try r["at"].decode(Double.self), event: try r["event"].decode(String.self), country: try r["country"].decode(String?.self),
            city: try r["city"].decode(String?.self), latitude: try r["latitude"].decode(Double?.self),
            longitude: try r["longitude"].decode(Double?.self), accuracyKm: try r["accuracy_km"].decode(Double?.self),
            asn: try r["asn"].decode(Int64?.self), browser: try r["browser"].decode(String.self), os: try r["os"].decode(String.self),
            deviceType: try r["device_type"].decode(String.self)
        )
    }

    static func flag(_ row: PostgresRow) throws -> SessionFlag? {
        let r = row.makeRandomAccess()
        return SessionRiskCoding.flag(
            id: try r["id"].decode(String.self), sessionIDHash: try r["session_id_hash"].decode(Data.self),
            userID: try r["user_id"].decode(String.self), evidence: try r["evidence"].decode(String.self),
            action: try r["action"].decode(String.self), raisedAt: try r["raised_at"].decode(Double.self),
            steppedUpAt: try r["stepped_up_at"].decode(Double?.self), dismissedAt: try r["dismissed_at"].decode(Double?.self),
            dismissedBy: try r["dismissed_by"].decode(String?.self)
        )
    }
}
