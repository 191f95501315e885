import Foundation
import PortcullisCore

extension SQLStore: SessionRiskStore {
    package func riskHistory(userID: String, since: Date, limit: Int) async throws -> [SessionObservation] {
        try await read("read session history") { connection in
            try await connection.all(
                "SELECT * FROM session_history WHERE user_id = $1 AND at >= $2 ORDER BY at DESC, id DESC LIMIT $3",
                [userID, StoreCoding.seconds(since), max(0, limit)], StoreRows.observation
            )
        }
    }

    /// Under the write lock like every audited write: parallel sign-ins of one user are judged
    /// and flagged one at a time, so a `deny` is never lost to a race on the audit chain.
    package func recordSessionRisk(_ record: SessionRiskRecord) async throws -> SessionRiskRecorded {
        try await lockedWrite("record session risk") { connection in
            let hash = Data(record.sessionIDHash.bytes)
            if let observation = record.observation {
                try await Self.insertObservation(connection, observation, userID: record.userID)
            }
            let email = try await Self.email(connection, userID: record.userID)
            var raised: [SessionFlag] = []
            var carried = try await connection.scalar(
                "SELECT COUNT(*) FROM session_flags WHERE session_id_hash = $1", [hash], as: Int.self
            ) ?? 0
            for flag in record.flags where carried < SessionRiskRecord.maximumFlagsPerSession {
                let inserted = try await connection.count(
                    """
                    INSERT INTO session_flags (id, session_id_hash, user_id, kind, subject, action, reason, evidence, raised_at,
                        stepped_up_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                    ON CONFLICT DO NOTHING RETURNING 1
                    """,
                    [
                        flag.id, hash, record.userID, flag.kind.rawValue, flag.evidence.subject, flag.action.rawValue, flag.reason,
                        SessionRiskCoding.evidenceJSON(flag.evidence), StoreCoding.seconds(flag.raisedAt),
                        flag.steppedUpAt.map(StoreCoding.seconds),
                    ]
                )
                guard inserted > 0 else { continue }
                carried += 1
                raised.append(flag)
                try await Self.appendAudit(connection, SessionRiskCoding.flaggedEvent(flag, email: email, audit: record.audit))
            }
            let at = StoreCoding.seconds(record.audit.at)
            var revoked = false
            if raised.contains(where: { $0.action == .deny }) {
                revoked = try await connection.count(
                    """
                    UPDATE sessions SET revoked_at = $1, revoked_by = $2, revoked_reason = $3
                    WHERE id_hash = $4 AND revoked_at IS NULL RETURNING 1
                    """,
                    [at, SessionRiskRecord.actor, SessionRiskAction.revocationReason, hash]
                ) > 0
            }
            var marked = false
            if raised.contains(where: \.awaitsStepUp) {
                marked = try await connection.count(
                    "UPDATE sessions SET step_up_required_at = $1 WHERE id_hash = $2 AND step_up_required_at IS NULL RETURNING 1",
                    [at, hash]
                ) > 0
            }
            // Every instance drops the session from its cache: the next request reads the
            // revocation or the step-up mark.
            if revoked {
                try await connection.announce(.sessionsRevoked(sessions: [record.sessionIDHash], users: []))
            } else if marked {
                try await connection.announce(.sessionsChanged(sessions: [record.sessionIDHash]))
            }
            let awaits = try await Self.awaitsStepUp(connection, hash)
            return SessionRiskRecorded(raised: raised, revoked: revoked, awaitsStepUp: awaits)
        }
    }

    package func sessionFlags(userID: String) async throws -> [SessionFlag] {
        try await read("read session flags") { connection in
            try await connection.all("SELECT * FROM session_flags WHERE user_id = $1 ORDER BY raised_at DESC, id", [userID], StoreRows.flag)
        }
    }

    package func flaggedSessions(now: Date, limit: Int) async throws -> [FlaggedSession] {
        try await read("list flagged sessions") { connection in
            let found = try await connection.all(
                """
                SELECT s.*, u.email AS user_email, u.name AS user_name, f.flagged_at
                FROM sessions s JOIN users u ON u.id = s.user_id
                JOIN (SELECT session_id_hash, MAX(raised_at) AS flagged_at FROM session_flags WHERE dismissed_at IS NULL
                      GROUP BY session_id_hash) f ON f.session_id_hash = s.id_hash
                WHERE s.revoked_at IS NULL AND s.absolute_expires_at > $1
                ORDER BY f.flagged_at DESC LIMIT $2
                """,
                [StoreCoding.seconds(now), max(0, limit)]
            ) { row -> (SessionRecord, String, String?)? in
                guard let session = try StoreRows.session(row) else { return nil }
                return (session, try row["user_email"], try row["user_name"])
            }
            var result: [FlaggedSession] = []
            for (session, email, name) in found {
                let flags = try await connection.all(
                    "SELECT * FROM session_flags WHERE session_id_hash = $1 ORDER BY raised_at DESC, id",
                    [Data(session.idHash.bytes)], StoreRows.flag
                )
                result.append(FlaggedSession(session: session, email: email, name: name, flags: flags))
            }
            return result
        }
    }

    /// Under the write lock, like every audited write; decided on the flag and its owner as
    /// they are inside the transaction.
    package func dismissSessionFlag(
        id: String, audit: AuditContext, decide: @escaping @Sendable (SessionFlagDismissal.State) -> RoleChangeRefusal?
    ) async throws -> Result<SessionFlag, RoleChangeRefusal>? {
        let sources = countedSources
        return try await lockedWrite("dismiss session flag") { connection in
            guard let flag = try await connection.first("SELECT * FROM session_flags WHERE id = $1", [id], StoreRows.flag) else {
                return nil
            }
            let owner = try await Self.userIdentity(connection, id: flag.userID, sources: sources)
            if let refusal = decide(SessionFlagDismissal.State(flag: flag, owner: owner)) { return .failure(refusal) }
            guard flag.dismissedAt == nil else { return .success(flag) }
            try await connection.execute(
                "UPDATE session_flags SET dismissed_at = $1, dismissed_by = $2 WHERE id = $3", [StoreCoding.seconds(audit.at), audit.actor, id]
            )
            let hash = Data(flag.sessionIDHash.bytes)
            if try await !Self.awaitsStepUp(connection, hash) {
                let cleared = try await connection.count(
                    "UPDATE sessions SET step_up_required_at = NULL WHERE id_hash = $1 AND step_up_required_at IS NOT NULL RETURNING 1",
                    [hash]
                )
                if cleared > 0 { try await connection.announce(.sessionsChanged(sessions: [flag.sessionIDHash])) }
            }
            var dismissed = flag
            dismissed.dismissedAt = audit.at
            dismissed.dismissedBy = audit.actor
            let email = try await Self.email(connection, userID: flag.userID)
            try await Self.appendAudit(connection, AuditEvent(
                audit, action: .sessionFlagDismissed, target: email, before: flag.auditValue, after: dismissed.auditValue
            ))
            return .success(dismissed)
        }
    }

    /// Under the write lock, like every audited write.
    package func continueSteppedUpSession(from old: SessionIDHash, to new: SessionIDHash, audit: AuditContext) async throws -> Int {
        try await lockedWrite("continue a stepped-up session") { connection in
            // A flag the new session already carries (the same kind and subject) stays behind.
            let moved = try await connection.all(
                """
                UPDATE session_flags AS f SET session_id_hash = $1, stepped_up_at = COALESCE(f.stepped_up_at, $2)
                WHERE f.session_id_hash = $3 AND f.dismissed_at IS NULL
                    AND f.user_id = (SELECT user_id FROM sessions WHERE id_hash = $1)
                    AND NOT EXISTS (SELECT 1 FROM session_flags o WHERE o.session_id_hash = $1 AND o.kind = f.kind
                        AND o.subject = f.subject)
                RETURNING id, user_id
                """,
                [Data(new.bytes), StoreCoding.seconds(audit.at), Data(old.bytes)]
            ) { row -> (id: String, userID: String) in (try row["id"], try row["user_id"]) }
            guard let userID = moved.first?.userID else { return 0 }
            let email = try await Self.email(connection, userID: userID)
            try await Self.appendAudit(connection, AuditEvent(
                audit, action: .sessionSteppedUp, target: email, before: nil,
                after: .object([
                    "from_session": .string(old.description), "to_session": .string(new.description),
                    "flags": .array(moved.map { .string($0.id) }),
                ])
            ))
            return moved.count
        }
    }

    package func pruneSessionHistory(before cutoff: Date) async throws -> Int {
        try await write("prune session history") { connection in
            try await connection.count("DELETE FROM session_history WHERE at < $1 RETURNING 1", [StoreCoding.seconds(cutoff)])
        }
    }

    static func insertObservation(_ connection: some StoreConnection, _ observation: SessionObservation, userID: String) async throws {
        let place = observation.place
        try await connection.execute(
            """
            INSERT INTO session_history (user_id, at, event, country, city, latitude, longitude, accuracy_km, asn, browser, os,
                device_type)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            """,
            [
                userID, StoreCoding.seconds(observation.at), observation.event.rawValue, place.countryCode, place.city,
                place.coordinates?.latitude, place.coordinates?.longitude, place.coordinates?.accuracyRadiusKm,
                place.asn.map { Int64($0) }, observation.device.browser, observation.device.os, observation.device.type.rawValue,
            ]
        )
    }

    /// Any flag of the session still waits for a fresh sign-in.
    static func awaitsStepUp(_ connection: some StoreConnection, _ hash: Data) async throws -> Bool {
        try await connection.exists(
            """
            SELECT 1 FROM session_flags WHERE session_id_hash = $1 AND action = 'step_up'
                AND stepped_up_at IS NULL AND dismissed_at IS NULL
            """,
            [hash]
        )
    }
}
