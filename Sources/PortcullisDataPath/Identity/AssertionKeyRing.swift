import Crypto
import Foundation
import Logging
import PortcullisCore
import ServiceLifecycle
import Synchronization

/// The ES256 keys that sign `X-Portcullis-Assertion` (SPEC §5), shared by every instance
/// through the store. Rotation never breaks verification: a scheduled new key is published in
/// `/_portcullis/jwks.json` `publishAhead` before it signs anything, and a replaced key stays
/// published for `retention` (far longer than an assertion's 60 s life) before it is dropped.
package final class AssertionKeyRing: Service, AssertionKeyPublisher {
    struct StoredKey: Codable, Hashable, Sendable {
        var kid: String
        /// The raw P-256 private scalar, base64url.
        var d: String
        var createdAt: Double
        var activatesAt: Double
    }

    struct Key: Sendable {
        var stored: StoredKey
        var privateKey: P256.Signing.PrivateKey
    }

    struct State: Sendable {
        var keys: [Key] = []
        var raw: [UInt8] = []
        var jwks = Data("{\"keys\":[]}".utf8)
    }

    package struct Schedule: Sendable {
        /// A key signs for this long before the next one takes over.
        package var rotationInterval: TimeInterval
        /// A new key is published this long before it is used.
        package var publishAhead: TimeInterval
        /// A replaced key stays published this long.
        package var retention: TimeInterval
        /// How often the ring is re-read from the store (other instances may have rotated).
        package var refreshInterval: Duration

        package init(rotationInterval: TimeInterval = 86_400, publishAhead: TimeInterval = 600, retention: TimeInterval = 7_200,
                    refreshInterval: Duration = .seconds(60)) {
            self.rotationInterval = rotationInterval
            self.publishAhead = publishAhead
            self.retention = retention
            self.refreshInterval = refreshInterval
        }
    }

    static let secretName = "assertion-signing-keys"
    private let store: any SharedSecretStore
    private let schedule: Schedule
    private let logger: Logger
    private let state = Mutex(State())
    private let changes = Atomic<UInt64>(0)

    package init(store: any SharedSecretStore, schedule: Schedule = Schedule(), logger: Logger) {
        self.store = store
        self.schedule = schedule
        self.logger = logger
    }

    /// Reads the ring (creating its first key), rotating when the newest key is due.
    package func refresh(now: Date = Date()) async throws {
        var raw = try await store.sharedSecret(named: Self.secretName) {
            Self.encode([Self.newKey(now: now, activatesAt: now)])
        }
        var keys = try Self.decode(raw)
        if let newest = keys.last, now.timeIntervalSince1970 >= newest.stored.activatesAt + schedule.rotationInterval - schedule.publishAhead {
            let next = Self.newKey(now: now, activatesAt: max(now.addingTimeInterval(schedule.publishAhead),
                                                               Date(timeIntervalSince1970: newest.stored.activatesAt + schedule.rotationInterval)))
            let rotated = prune(keys.map(\.stored) + [next.stored], now: now)
            let encoded = Self.encode(rotated.compactMap { try? Self.key($0) })
            if try await store.replaceSharedSecret(named: Self.secretName, expected: raw, with: encoded) {
                logger.info("assertion signing key scheduled", metadata: ["kid": "\(next.stored.kid)",
                                                                         "activates_at": "\(next.stored.activatesAt)"])
                raw = encoded
            } else {
                // Another instance rotated first: take its ring.
                raw = try await store.sharedSecret(named: Self.secretName) { [] }
            }
            keys = try Self.decode(raw)
        }
        install(keys, raw: raw)
    }

    /// Rotates now: a new key signs from this moment; the old one stays published. Answers the
    /// new key id.
    @discardableResult
    package func rotateNow(now: Date = Date()) async throws -> String {
        for _ in 0..<5 {
            let raw = try await store.sharedSecret(named: Self.secretName) { Self.encode([Self.newKey(now: now, activatesAt: now)]) }
            let current = try Self.decode(raw)
            let next = Self.newKey(now: now, activatesAt: now)
            // Keys scheduled for later are superseded by this one.
            let kept = current.map(\.stored).filter { $0.activatesAt <= now.timeIntervalSince1970 }
            let updated = prune(kept + [next.stored], now: now)
            let encoded = Self.encode(updated.compactMap { try? Self.key($0) })
            if try await store.replaceSharedSecret(named: Self.secretName, expected: raw, with: encoded) {
                install(try Self.decode(encoded), raw: encoded)
                logger.notice("assertion signing key rotated", metadata: ["kid": "\(next.stored.kid)"])
                return next.stored.kid
            }
        }
        throw StoreError(operation: "rotate signing key", reason: "the key ring kept changing underneath")
    }

    /// The key that signs at `now`: the newest whose time has come.
    package func signingKey(at now: Date) -> (kid: String, key: P256.Signing.PrivateKey)? {
        state.withLock { state in
            state.keys.last { $0.stored.activatesAt <= now.timeIntervalSince1970 }.map { ($0.stored.kid, $0.privateKey) }
        }
    }

    /// `/_portcullis/jwks.json`: every published key, current, upcoming and retiring.
    package var jwks: Data { state.withLock { $0.jwks } }

    package var keyIDs: [String] { state.withLock { $0.keys.map(\.stored.kid) } }

    /// Moves whenever the ring read from the store changes (a rotation here or on another
    /// instance): whatever remembered an assertion signed before it signs again.
    package var generation: UInt64 { changes.load(ordering: .acquiring) }

    package func run() async throws {
        while !Task.isCancelled {
            do {
                try await refresh()
            } catch {
                logger.warning("assertion signing keys could not be refreshed", metadata: ["error": "\(error)"])
            }
            do {
                let interval = schedule.refreshInterval
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
        }
    }

    // MARK: -

    /// Drops keys replaced more than `retention` ago (a key is replaced when its successor
    /// activates).
    private func prune(_ keys: [StoredKey], now: Date) -> [StoredKey] {
        let sorted = keys.sorted { $0.activatesAt < $1.activatesAt }
        return sorted.enumerated().filter { index, _ in
            guard index + 1 < sorted.count else { return true }
            return now.timeIntervalSince1970 - sorted[index + 1].activatesAt < schedule.retention
        }.map(\.element)
    }

    private func install(_ keys: [Key], raw: [UInt8]) {
        let document = JSONValue.object(["keys": .array(keys.map { key in
            let point = key.privateKey.publicKey.rawRepresentation
            return .object([
                "kty": .string("EC"), "crv": .string("P-256"), "use": .string("sig"), "alg": .string("ES256"),
                "kid": .string(key.stored.kid),
                "x": .string(Data(point.prefix(32)).base64URLEncodedString()),
                "y": .string(Data(point.suffix(32)).base64URLEncodedString()),
            ])
        })])
        let jwks = (try? JSONEncoder().encode(document)) ?? Data("{\"keys\":[]}".utf8)
        let changed = state.withLock { state in
            let changed = state.raw != raw
            state = State(keys: keys, raw: raw, jwks: jwks)
            return changed
        }
        if changed { changes.add(1, ordering: .releasing) }
    }

    static func newKey(now: Date, activatesAt: Date) -> Key {
        let privateKey = P256.Signing.PrivateKey()
        let kid = Data(SHA256.hash(data: privateKey.publicKey.rawRepresentation).prefix(12)).base64URLEncodedString()
        return Key(
            stored: StoredKey(kid: kid, d: privateKey.rawRepresentation.base64URLEncodedString(),
                              createdAt: now.timeIntervalSince1970, activatesAt: activatesAt.timeIntervalSince1970),
            privateKey: privateKey
        )
    }

    static func key(_ stored: StoredKey) throws -> Key {
        guard let scalar = Data(base64URLEncoded: stored.d) else {
            throw StoreError(operation: "read signing keys", reason: "key \(stored.kid) is not base64url")
        }
        return Key(stored: stored, privateKey: try P256.Signing.PrivateKey(rawRepresentation: scalar))
    }

    static func encode(_ keys: [Key]) -> [UInt8] {
        Array((try? JSONEncoder().encode(keys.map(\.stored))) ?? Data("[]".utf8))
    }

    static func decode(_ raw: [UInt8]) throws -> [Key] {
        let stored = try JSONDecoder().decode([StoredKey].self, from: Data(raw))
        return try stored.sorted { $0.activatesAt < $1.activatesAt }.map(key)
    }
}
