import Foundation
import PortcullisCore
import PortcullisStore
import PortcullisTestSupport
import Testing

/// Issue 21, item 3: the suspicious-session writes take the store's write lock like every other
/// audited write. Without it, two instances judging sign-ins at the same moment both append to
/// the audit chain from the same head: one transaction fails on the duplicate sequence number
/// and its `deny` (the revocation and the flag) is lost, leaving the session open.
@Suite("PostgreSQL store: suspicious-session writes under the write lock", .serialized)
struct PostgresWriteLockTests {
    static let sessionsPerKind = 12

    @Test("parallel risk records, dismissals and step-ups on two instances all land, every deny revokes, the chain holds")
    func concurrentRiskWrites() async throws {
        let cluster = try await PostgresStoreTests.cluster()
        defer { cluster.remove() }
        let url = try cluster.createDatabase()
        let one = try await PostgresStoreTests.Running(url: url)
        let two = try await PostgresStoreTests.Running(url: url, migrate: false)
        let now = Date()
        let audit = AuditContext(actor: SessionRiskRecord.actor, actorIsSuperAdmin: false, sourceIP: "198.51.100.7", at: now)
        let user = try await one.store.recordLogin(LoginProfile(subject: "s", email: "ada@example.com"), at: now)

        // Sessions to deny, flags to dismiss, and step-ups to carry from an old session to a new one.
        let denied = try await Self.sessions(1, on: one.store, user: user.id, now: now)
        let flagged = try await Self.sessions(2, on: one.store, user: user.id, now: now)
        let steppedFrom = try await Self.sessions(3, on: one.store, user: user.id, now: now)
        let steppedTo = try await Self.sessions(4, on: one.store, user: user.id, now: now)
        for (index, hash) in (flagged + steppedFrom).enumerated() {
            _ = try await one.store.recordSessionRisk(SessionRiskRecord(
                userID: user.id, sessionIDHash: hash, observation: nil,
                flags: [Self.flag("setup-\(index)", hash, user: user.id, action: .stepUp, now: now)], audit: audit
            ))
        }
        let before = try await one.store.latestAuditSequence()

        let stores = [one.store, two.store]
        let failures = try await withThrowingTaskGroup(of: String?.self) { group in
            for index in 0..<Self.sessionsPerKind {
                let store = stores[index % 2]
                let other = stores[(index + 1) % 2]
                group.addTask {
                    do {
                        let recorded = try await store.recordSessionRisk(SessionRiskRecord(
                            userID: user.id, sessionIDHash: denied[index],
                            observation: SessionObservation(
                                at: now, event: .signIn, place: ObservedPlace(countryCode: "DE"),
                                device: DeviceInfo(browser: "Firefox", os: "Linux", type: .desktop)
                            ),
                            flags: [Self.flag("deny-\(index)", denied[index], user: user.id, action: .deny, now: now)], audit: audit
                        ))
                        return recorded.revoked ? nil : "deny \(index) did not revoke its session"
                    } catch {
                        return "deny \(index): \(error)"
                    }
                }
                group.addTask {
                    do {
                        let dismissed = try await other.dismissSessionFlagUnconditionally(id: "setup-\(index)", audit: audit)
                        return dismissed?.dismissedAt == nil ? "dismissal \(index) did not dismiss" : nil
                    } catch {
                        return "dismissal \(index): \(error)"
                    }
                }
                group.addTask {
                    do {
                        let moved = try await store.continueSteppedUpSession(from: steppedFrom[index], to: steppedTo[index], audit: audit)
                        return moved == 1 ? nil : "step-up \(index) moved \(moved) flags"
                    } catch {
                        return "step-up \(index): \(error)"
                    }
                }
            }
            var failures: [String] = []
            for try await failure in group { if let failure { failures.append(failure) } }
            return failures
        }
        #expect(failures.isEmpty, "\(failures.sorted())")

        for hash in denied {
            #expect(try await two.store.session(hash)?.revokedAt != nil, "a denied session is still open")
        }
        // Every write audited once, one entry after another.
        let entries = try await one.store.auditEntries(AuditQuery(limit: 10_000)).filter { $0.sequence > before }
        #expect(entries.count == 3 * Self.sessionsPerKind)
        #expect(entries.filter { $0.action == .sessionFlagged }.count == Self.sessionsPerKind)
        #expect(entries.filter { $0.action == .sessionFlagDismissed }.count == Self.sessionsPerKind)
        #expect(entries.filter { $0.action == .sessionSteppedUp }.count == Self.sessionsPerKind)
        #expect(try await one.store.verifyAuditLog().isIntact)
        await two.stop()
        await one.stop()
    }

    static func sessions(_ seed: UInt8, on store: PostgresStore, user: String, now: Date) async throws -> [SessionIDHash] {
        var hashes: [SessionIDHash] = []
        let address = try IPAddress(parsing: "198.51.100.7")
        for index in 0..<sessionsPerKind {
            let hash = try #require(SessionIDHash(bytes: [seed, UInt8(index)] + Array(repeating: 0, count: 30)))
            try await store.insertSession(SessionRecord(
                idHash: hash, userID: user, createdAt: now, lastSeenAt: now, absoluteExpiresAt: now.addingTimeInterval(600),
                createdIP: address, lastIP: address, createdLocation: .unknown, lastLocation: .unknown, userAgent: "",
                device: DeviceInfo(browser: "Firefox", os: "Linux", type: .desktop), authMethod: .oidc, idpSessionID: nil,
                amr: [], acr: nil, mfa: false
            ))
            hashes.append(hash)
        }
        return hashes
    }

    static func flag(_ id: String, _ hash: SessionIDHash, user: String, action: SessionRiskAction, now: Date) -> SessionFlag {
        SessionFlag(
            id: id, sessionIDHash: hash, userID: user,
            evidence: .newCountry(.init(place: ObservedPlace(countryCode: "DE"), knownCountries: ["AU"], windowSeconds: 60)),
            action: action, raisedAt: now
        )
    }
}
