import Foundation
import PortcullisCore
import PortcullisDataPath
import PortcullisStore
import PortcullisTokens

/// Resident memory of the session cache with many live sessions, as the gateway holds them:
///
///     portcullis-session-memory [--sessions N] [--users U]
///
/// Makes `U` users in a real SQLite store (half signed in over OIDC with three groups, half
/// provisioned over SCIM with an Entra ID-shaped user document and two groups), one session
/// each; then fills the gateway's `SessionCache` with `N` entries, each read from the store by
/// `sessionIdentity` as a cache miss reads it and kept as the authenticator keeps it (so no
/// entry shares storage with another), each with its own session id and address. Prints the resident set size before and after,
/// and the bytes per cached session.
@main
enum SessionMemory {
    static func main() async throws {
        var sessions = 1_000_000
        var users = 1_000
        var arguments = CommandLine.arguments.dropFirst()
        while let argument = arguments.popFirst() {
            switch argument {
            case "--sessions":
                guard let value = arguments.popFirst().flatMap(Int.init), value > 0 else { throw UsageError("--sessions needs a positive number") }
                sessions = value
            case "--users":
                guard let value = arguments.popFirst().flatMap(Int.init), value > 0 else { throw UsageError("--users needs a positive number") }
                users = value
            default:
                throw UsageError("unknown argument \(argument)")
            }
        }
        let folder = NSTemporaryDirectory() + "portcullis-session-memory-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try SQLiteStore(path: folder + "/portcullis.sqlite")
        let hashes = try await makeSessions(users: users, in: store)
        let tags = CredentialTags(key: CredentialTags.newKey())

        let cache = SessionCache(capacity: sessions)
        let before = residentBytes()
        let started = ContinuousClock.now
        for index in 0..<sessions {
            guard var identity = try await store.sessionIdentity(hashes[index % hashes.count]) else {
                throw UsageError("session \(index % hashes.count) vanished from the store")
            }
            let (_, hash) = SessionToken.make(tags: tags)
            let address = IPAddress(ipv4: 10, UInt8(truncatingIfNeeded: index >> 16), UInt8(truncatingIfNeeded: index >> 8), UInt8(truncatingIfNeeded: index))
            identity.session.idHash = hash
            identity.session.lastIP = address
            cache.store(SessionCache.Entry(identity: identity, hash: hash, fetchedAt: .now, activityWrittenAt: Date(), version: 0), for: hash)
        }
        let filled = ContinuousClock.now - started
        let after = residentBytes()
        let perSession = Double(after - before) / Double(sessions)
        print("sessions \(cache.count) users \(users); an entry's slot in the table takes \(MemoryLayout<SessionCache.Entry>.stride) bytes")
        print("resident before \(mebibytes(before)) MiB, after \(mebibytes(after)) MiB")
        print(String(format: "cached sessions take %.0f MiB: %.0f bytes per session (filled in %.1f s)",
                     Double(after - before) / 1_048_576, perSession,
                     Double(filled.components.seconds) + Double(filled.components.attoseconds) / 1e18))
        print(String(format: "1,000,000 sessions: %.0f MiB", perSession * 1_000_000 / 1_048_576))
    }

    /// `users` users, one session each, answered as their session id hashes.
    static func makeSessions(users: Int, in store: SQLiteStore) async throws -> [SessionIDHash] {
        let now = Date()
        let audit = AuditContext(actor: "session-memory", actorIsSuperAdmin: true, sourceIP: nil, at: now)
        var hashes: [SessionIDHash] = []
        let tags = CredentialTags(key: CredentialTags.newKey())
        for index in 0..<users {
            let user: UserRecord
            let email = "person.\(index)@contoso.example"
            if index.isMultiple(of: 2) {
                user = try await store.recordLogin(LoginProfile(
                    subject: "00u\(index)abcdefghijklmno", email: email, name: "Person Number \(index)", department: "Engineering",
                    groups: ["engineering", "on-call", "team-\(index % 50)"]
                ), at: now)
            } else {
                user = try await store.provisionUser(ProvisionedUser(
                    email: email, name: "Person Number \(index)", department: "Finance", externalID: UUID().uuidString,
                    document: entraDocument(email: email, index: index)
                ), audit: audit)
            }
            let (_, hash) = SessionToken.make(tags: tags)
            let address = IPAddress(ipv4: 192, 0, 2, UInt8(truncatingIfNeeded: index))
            try await store.insertSession(SessionRecord(
                idHash: hash, userID: user.id, createdAt: now, lastSeenAt: now, absoluteExpiresAt: now.addingTimeInterval(86_400),
                createdIP: address, lastIP: address, createdLocation: .unknown, lastLocation: .unknown,
                userAgent: "Mozilla/5.0", device: .unknown, authMethod: .oidc, idpSessionID: "sid-\(UUID().uuidString)",
                amr: ["pwd", "mfa"], acr: "urn:okta:loa:2fa:any", mfa: true
            ))
            hashes.append(hash)
        }
        return hashes
    }

    /// A user as Entra ID's provisioning service sends it (its documented request shape).
    static func entraDocument(email: String, index: Int) -> [String: JSONValue] {
        [
            "userName": .string(email),
            "active": .bool(true),
            "displayName": .string("Person Number \(index)"),
            "title": .string("Financial Analyst"),
            "preferredLanguage": .string("en-US"),
            "name": .object(["formatted": .string("Person Number \(index)"), "familyName": .string("Number \(index)"), "givenName": .string("Person")]),
            "emails": .array([.object(["primary": .bool(true), "type": .string("work"), "value": .string(email)])]),
            "addresses": .array([.object(["type": .string("work"), "formatted": .string("1 Main Street"), "locality": .string("Redmond"),
                                          "region": .string("WA"), "postalCode": .string("98052"), "country": .string("US")])]),
            "phoneNumbers": .array([.object(["type": .string("work"), "value": .string("+1 425 555 \(1000 + index % 9000)")])]),
            "externalId": .string(UUID().uuidString),
        ]
    }

    static func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return 0 }
        return kilobytes * 1024
    }

    static func mebibytes(_ bytes: Int) -> Int { bytes / 1_048_576 }

    struct UsageError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
