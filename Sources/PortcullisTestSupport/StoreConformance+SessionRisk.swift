import Foundation
import PortcullisCore
import Testing

extension StoreConformance {
    static let sessionRiskChecks: [(String, @Sendable (any GatewayStore) async throws -> Void)] = [
        ("the session history keeps coarse observations, newest first, within the window, and is pruned", riskHistory),
        ("flags are raised once per kind and subject, audited, and listed with their live sessions", riskFlags),
        ("a deny flag revokes the session with reason suspicious_session", riskDeny),
        ("a step-up flag marks the session until it is dismissed", riskStepUpDismissed),
        ("a dismissal is decided on the flag and its owner inside the transaction; a refusal writes nothing", riskDismissalDecided),
        ("a stepped-up session's flags move to the session that replaces it", riskStepUpContinued),
        ("flags go with their sessions when those are purged", riskFlagsPurged),
        ("a session carries at most so many flags", riskFlagsBounded),
    ]

    static let sydney = ObservedPlace(
        countryCode: "AU", city: "Sydney", coordinates: GeoCoordinates(latitude: -33.8688, longitude: 151.2093, accuracyRadiusKm: 20),
        asn: 64_498
    )
    static let berlin = ObservedPlace(
        countryCode: "DE", city: "Berlin", coordinates: GeoCoordinates(latitude: 52.52, longitude: 13.405, accuracyRadiusKm: 20), asn: 64_497
    )
    static let firefox = DeviceInfo(browser: "Firefox", os: "Linux", type: .desktop)
    static let riskAudit = AuditContext(actor: SessionRiskRecord.actor, actorIsSuperAdmin: false, sourceIP: "198.51.100.7", at: t0)

    static func riskFlag(_ id: String, session: SessionIDHash, user: String, action: SessionRiskAction = .flag, country: String = "DE") -> SessionFlag {
        var place = berlin
        place.countryCode = country
        return SessionFlag(
            id: id, sessionIDHash: session, userID: user,
            evidence: .newCountry(.init(place: place, knownCountries: ["AU"], windowSeconds: 90 * 86_400)), action: action, raisedAt: t0
        )
    }

    @Sendable static func riskHistory(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-r1", "risk1@example.com"), at: t0)
        try await store.insertSession(session(100, user: user.id))
        let first = SessionObservation(at: t0.addingTimeInterval(-100 * 86_400), event: .signIn, place: sydney, device: firefox)
        let second = SessionObservation(at: t0.addingTimeInterval(-3_600), event: .signIn, place: sydney, device: firefox)
        let third = SessionObservation(at: t0, event: .addressChange, place: ObservedPlace(), device: .unknown)
        for observation in [first, second, third] {
            let recorded = try await store.recordSessionRisk(SessionRiskRecord(
                userID: user.id, sessionIDHash: hash(100), observation: observation, flags: [], audit: riskAudit
            ))
            #expect(recorded.raised.isEmpty)
            #expect(!recorded.revoked)
        }
        let since = t0.addingTimeInterval(-90 * 86_400)
        let history = try await store.riskHistory(userID: user.id, since: since, limit: 100)
        #expect(history == [third, second], "newest first, within the window, every field back (unknowns stay unknown)")
        #expect(history.last?.place.coordinates?.latitude == -33.9, "coordinates are kept to a tenth of a degree")
        #expect(history.last?.place.coordinates?.accuracyRadiusKm == 20)
        #expect(try await store.riskHistory(userID: user.id, since: since, limit: 1) == [third])
        #expect(try await store.riskHistory(userID: "someone-else", since: since, limit: 100).isEmpty)
        #expect(try await store.pruneSessionHistory(before: since) == 1)
        #expect(try await store.riskHistory(userID: user.id, since: .distantPast, limit: 100).count == 2)
    }

    @Sendable static func riskFlags(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-r2", "risk2@example.com"), at: t0)
        let other = try await store.recordLogin(profile("sub-r3", "risk3@example.com"), at: t0)
        try await store.insertSession(session(101, user: user.id))
        try await store.insertSession(session(102, user: other.id, at: t0.addingTimeInterval(5)))
        try await store.insertSession(session(103, user: other.id))
        let flag = riskFlag("f-1", session: hash(101), user: user.id)
        let recorded = try await store.recordSessionRisk(SessionRiskRecord(
            userID: user.id, sessionIDHash: hash(101), observation: nil, flags: [flag], audit: riskAudit
        ))
        #expect(recorded.raised == [flag])
        #expect(!recorded.awaitsStepUp)
        // The same kind and subject again: not raised twice, not audited twice.
        let again = try await store.recordSessionRisk(SessionRiskRecord(
            userID: user.id, sessionIDHash: hash(101), observation: nil, flags: [riskFlag("f-2", session: hash(101), user: user.id)],
            audit: riskAudit
        ))
        #expect(again.raised.isEmpty)
        let later = riskFlag("f-3", session: hash(102), user: other.id, country: "JP")
        var laterFlag = later
        laterFlag.raisedAt = t0.addingTimeInterval(10)
        _ = try await store.recordSessionRisk(SessionRiskRecord(
            userID: other.id, sessionIDHash: hash(102), observation: nil, flags: [laterFlag], audit: riskAudit
        ))
        #expect(try await store.sessionFlags(userID: user.id) == [flag])
        let stored = try #require(try await store.sessionFlags(userID: user.id).first)
        #expect(stored.reason == flag.reason)
        #expect(stored.evidence == flag.evidence)
        let flagged = try await store.flaggedSessions(now: t0.addingTimeInterval(60), limit: 10)
        #expect(flagged.map(\.session.idHash) == [hash(102), hash(101)], "most recently flagged first; unflagged sessions absent")
        #expect(flagged.last?.email == "risk2@example.com")
        #expect(flagged.last?.flags == [flag])
        let entries = try await store.auditEntries(AuditQuery(action: .sessionFlagged))
        #expect(entries.count == 2)
        #expect(entries.contains { $0.target == "risk2@example.com" && $0.actor == SessionRiskRecord.actor })
        // Dismissing: audited once; the session leaves the flagged list.
        let dismissal = AuditContext(actor: "root@example.com", actorIsSuperAdmin: true, sourceIP: "198.51.100.1", at: t0.addingTimeInterval(30))
        let dismissed = try #require(try await store.dismissSessionFlagUnconditionally(id: "f-1", audit: dismissal))
        #expect(dismissed.dismissedBy == "root@example.com")
        #expect(dismissed.dismissedAt == dismissal.at)
        #expect(try await store.dismissSessionFlagUnconditionally(id: "f-1", audit: dismissal)?.dismissedBy == "root@example.com")
        #expect(try await store.dismissSessionFlagUnconditionally(id: "no-such-flag", audit: dismissal) == nil)
        #expect(try await store.auditEntries(AuditQuery(action: .sessionFlagDismissed)).count == 1)
        #expect(try await store.flaggedSessions(now: t0.addingTimeInterval(60), limit: 10).map(\.session.idHash) == [hash(102)])
        // A revoked or expired session is not listed.
        _ = try await store.revokeSession(hash(102), at: t0, by: "user", reason: "logout")
        #expect(try await store.flaggedSessions(now: t0.addingTimeInterval(60), limit: 10).isEmpty)
        #expect(try await store.verifyAuditLog().isIntact)
    }

    @Sendable static func riskDeny(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-r4", "risk4@example.com"), at: t0)
        try await store.insertSession(session(104, user: user.id))
        let recorded = try await store.recordSessionRisk(SessionRiskRecord(
            userID: user.id, sessionIDHash: hash(104), observation: nil,
            flags: [riskFlag("f-4", session: hash(104), user: user.id, action: .deny)], audit: riskAudit
        ))
        #expect(recorded.revoked)
        let session = try #require(try await store.session(hash(104)))
        #expect(session.revokedAt == t0)
        #expect(session.revokedReason == "suspicious_session")
        #expect(session.revokedBy == SessionRiskRecord.actor)
        #expect(try await store.sessionIdentity(hash(104))?.session.revokedAt == t0)
    }

    @Sendable static func riskStepUpDismissed(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-r5", "risk5@example.com"), at: t0)
        try await store.insertSession(session(105, user: user.id))
        let recorded = try await store.recordSessionRisk(SessionRiskRecord(
            userID: user.id, sessionIDHash: hash(105), observation: nil,
            flags: [
                riskFlag("f-5", session: hash(105), user: user.id, action: .stepUp),
                riskFlag("f-6", session: hash(105), user: user.id, action: .stepUp, country: "JP"),
            ],
            audit: riskAudit
        ))
        #expect(recorded.awaitsStepUp)
        #expect(!recorded.revoked)
        #expect(try await store.sessionIdentity(hash(105))?.session.stepUpRequiredAt == t0)
        _ = try await store.dismissSessionFlagUnconditionally(id: "f-5", audit: audit)
        #expect(try await store.session(hash(105))?.stepUpRequiredAt == t0, "one step-up flag is still open")
        _ = try await store.dismissSessionFlagUnconditionally(id: "f-6", audit: audit)
        #expect(try await store.session(hash(105))?.stepUpRequiredAt == nil)
        #expect(try await store.session(hash(105))?.revokedAt == nil)
    }

    /// Issue 21: the admin API refuses an admin's dismissal of a flag on a super admin's
    /// session; the store gives the decision the owner as they are and writes nothing when told no.
    @Sendable static func riskDismissalDecided(_ store: any GatewayStore) async throws {
        let owner = try await store.recordLogin(profile("sub-r11", "owner@example.com", groups: ["Owners"]), at: t0)
        _ = try await store.changeGroupRoles(name: "Owners", source: .oidc, audit: audit) { _ in .success(RoleAssignment(primary: .superAdmin)) }
        try await store.insertSession(session(111, user: owner.id))
        _ = try await store.recordSessionRisk(SessionRiskRecord(
            userID: owner.id, sessionIDHash: hash(111), observation: nil,
            flags: [riskFlag("f-11", session: hash(111), user: owner.id, action: .stepUp)], audit: riskAudit
        ))
        let admin = AuditContext(actor: "admin@example.com", actorIsSuperAdmin: false, sourceIP: "198.51.100.2", at: t0.addingTimeInterval(5))
        let refused = try #require(try await store.dismissSessionFlag(id: "f-11", audit: admin) { state in
            #expect(state.flag.id == "f-11")
            #expect(state.owner?.user.email == "owner@example.com")
            #expect(state.owner?.effectiveRole.primary == .superAdmin, "the owner's role through a group counts")
            return SessionFlagDismissal.decide(actorIsSuperAdmin: false, state)
        })
        guard case .failure(let refusal) = refused else {
            Issue.record("an admin dismissed a flag on a super admin's session")
            return
        }
        #expect(refusal.code == .superAdminProtected && refusal.status == 403)
        #expect(try await store.sessionFlags(userID: owner.id).first?.dismissedAt == nil)
        #expect(try await store.session(hash(111))?.stepUpRequiredAt != nil, "the session still waits for its step-up")
        #expect(try await store.auditEntries(AuditQuery(action: .sessionFlagDismissed)).isEmpty, "a refusal is not audited as done")
        let allowed = try #require(try await store.dismissSessionFlag(id: "f-11", audit: audit) { state in
            SessionFlagDismissal.decide(actorIsSuperAdmin: true, state)
        })
        #expect(try allowed.get().dismissedBy == "root@example.com")
        #expect(try await store.session(hash(111))?.stepUpRequiredAt == nil)
        #expect(try await store.auditEntries(AuditQuery(action: .sessionFlagDismissed)).count == 1)
    }

    @Sendable static func riskStepUpContinued(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-r6", "risk6@example.com"), at: t0)
        let other = try await store.recordLogin(profile("sub-r7", "risk7@example.com"), at: t0)
        try await store.insertSession(session(106, user: user.id))
        try await store.insertSession(session(107, user: user.id))
        try await store.insertSession(session(108, user: other.id))
        _ = try await store.recordSessionRisk(SessionRiskRecord(
            userID: user.id, sessionIDHash: hash(106), observation: nil,
            flags: [riskFlag("f-7", session: hash(106), user: user.id, action: .stepUp)], audit: riskAudit
        ))
        // Never onto another user's session.
        #expect(try await store.continueSteppedUpSession(from: hash(106), to: hash(108), audit: riskAudit) == 0)
        #expect(try await store.sessionFlags(userID: other.id).isEmpty)
        let later = AuditContext(actor: "risk6@example.com", actorIsSuperAdmin: false, sourceIP: "203.0.113.7", at: t0.addingTimeInterval(60))
        #expect(try await store.continueSteppedUpSession(from: hash(106), to: hash(107), audit: later) == 1)
        let moved = try #require(try await store.sessionFlags(userID: user.id).first)
        #expect(moved.sessionIDHash == hash(107))
        #expect(moved.steppedUpAt == later.at)
        #expect(!moved.awaitsStepUp)
        #expect(try await store.session(hash(107))?.stepUpRequiredAt == nil)
        #expect(try await store.auditEntries(AuditQuery(action: .sessionSteppedUp)).count == 1)
        #expect(try await store.continueSteppedUpSession(from: hash(106), to: hash(107), audit: later) == 0)
    }

    @Sendable static func riskFlagsPurged(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-r8", "risk8@example.com"), at: t0)
        try await store.insertSession(session(109, user: user.id, absolute: 10))
        _ = try await store.recordSessionRisk(SessionRiskRecord(
            userID: user.id, sessionIDHash: hash(109), observation: nil, flags: [riskFlag("f-9", session: hash(109), user: user.id)],
            audit: riskAudit
        ))
        #expect(try await store.purgeSessions(endedBefore: t0.addingTimeInterval(100)) == 1)
        #expect(try await store.sessionFlags(userID: user.id).isEmpty)
    }

    @Sendable static func riskFlagsBounded(_ store: any GatewayStore) async throws {
        let user = try await store.recordLogin(profile("sub-r9", "risk9@example.com"), at: t0)
        try await store.insertSession(session(110, user: user.id))
        let limit = SessionRiskRecord.maximumFlagsPerSession
        let flags = (0..<(limit + 5)).map { index in
            riskFlag("bound-\(index)", session: hash(110), user: user.id, country: "C\(index)")
        }
        let first = try await store.recordSessionRisk(SessionRiskRecord(
            userID: user.id, sessionIDHash: hash(110), observation: nil, flags: Array(flags.prefix(limit - 2)), audit: riskAudit
        ))
        #expect(first.raised.count == limit - 2)
        let second = try await store.recordSessionRisk(SessionRiskRecord(
            userID: user.id, sessionIDHash: hash(110), observation: nil, flags: Array(flags.dropFirst(limit - 2)), audit: riskAudit
        ))
        #expect(second.raised.count == 2)
        #expect(try await store.sessionFlags(userID: user.id).count == limit)
        #expect(try await store.auditEntries(AuditQuery(action: .sessionFlagged)).count == limit)
    }
}
