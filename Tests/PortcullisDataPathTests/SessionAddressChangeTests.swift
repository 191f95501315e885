import Foundation
import PortcullisCore
@testable import PortcullisDataPath
import PortcullisTestSupport
import Testing

/// How the data path notices a live session's change of client address (suspicious sessions):
/// one report per change, not one per request; a session bouncing between two addresses at
/// most once per interval; and where a session waiting for a step-up is sent.
@Suite("Session address changes and step-up redirects")
struct SessionAddressChangeTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let berlin = GeoLocation(countryCode: "DE", city: "Berlin", asn: 64_497)
    static let tokyo = GeoLocation(countryCode: "JP", city: "Tokyo", asn: 64_499)

    static func cached(_ cache: SessionCache) -> SessionIDHash {
        let hash = SessionIDHash(bytes: Array(repeating: 3, count: 32))!
        let session = SessionRecord(
            idHash: hash, userID: "u-1", createdAt: t0, lastSeenAt: t0, absoluteExpiresAt: t0.addingTimeInterval(86_400),
            createdIP: .literal("198.51.100.7"), lastIP: .literal("198.51.100.7"), createdLocation: berlin, lastLocation: berlin,
            userAgent: "", device: .unknown, authMethod: .oidc, idpSessionID: nil, amr: [], acr: nil, mfa: false
        )
        let identity = SessionIdentity(
            session: session, user: UserRecord(id: "u-1", email: "ada@example.com", createdAt: t0), groups: [], defaults: .allOn,
            flags: .defaults
        )
        cache.store(SessionCache.Entry(identity: identity, hash: hash, fetchedAt: .now, activityWrittenAt: t0, version: cache.version.current), for: hash)
        return hash
    }

    @Test("the first request from a new address claims the change and learns where the session was; later ones from it do not")
    func claimedOnce() throws {
        let cache = SessionCache()
        let hash = Self.cached(cache)
        #expect(cache.claimAddressChange(hash, client: .literal("198.51.100.7"), location: Self.berlin, now: Self.t0, interval: 5) == nil,
                "the same address is no change")
        let previous = try #require(cache.claimAddressChange(hash, client: .literal("2001:db8::1"), location: Self.tokyo, now: Self.t0, interval: 5))
        #expect(previous.address == .literal("198.51.100.7"))
        #expect(previous.location == Self.berlin)
        #expect(cache.entry(hash)?.lastIP == .literal("2001:db8::1"))
        #expect(cache.entry(hash)?.lastLocation == Self.tokyo)
        #expect(cache.entry(hash)?.activityWrittenAt == Self.t0, "the change took over the activity write")
        for offset in [0.0, 1, 10] {
            #expect(cache.claimAddressChange(hash, client: .literal("2001:db8::1"), location: Self.tokyo, now: Self.t0 + offset, interval: 5) == nil)
        }
    }

    @Test("a session bouncing between two addresses is reported at most once per interval")
    func bouncing() {
        let cache = SessionCache()
        let hash = Self.cached(cache)
        #expect(cache.claimAddressChange(hash, client: .literal("2001:db8::1"), location: Self.tokyo, now: Self.t0, interval: 5) != nil)
        #expect(cache.claimAddressChange(hash, client: .literal("198.51.100.7"), location: Self.berlin, now: Self.t0 + 1, interval: 5) == nil)
        #expect(cache.claimAddressChange(hash, client: .literal("198.51.100.7"), location: Self.berlin, now: Self.t0 + 6, interval: 5) != nil)
        // A fresh read from the store keeps when the last change was reported.
        var entry = cache.entry(hash)!
        entry.addressChangedAt = nil
        cache.store(entry, for: hash)
        #expect(cache.claimAddressChange(hash, client: .literal("2001:db8::1"), location: Self.tokyo, now: Self.t0 + 7, interval: 5) == nil)
    }

    /// A lookup reads a session, a sign-out evicts it while the read is under way, and then the
    /// lookup keeps what it read: the signed-out session would be served from the cache until
    /// `max_staleness`. The lookup's store is conditional on no eviction since it started.
    @Test("a lookup that started before a sign-out does not put the session back in the cache")
    func signOutDuringLookup() throws {
        let cache = SessionCache()
        let hash = Self.cached(cache)
        let read = try #require(cache.entry(hash))
        let before = cache.mark
        cache.evict(hash)
        #expect(!cache.store(read, for: hash, ifUnchangedSince: before))
        #expect(cache.entry(hash) == nil, "the signed-out session is back in the cache")
        #expect(!cache.isUnchanged(hash, userID: read.session.userID, since: before))
        // Its user's sessions all signed out: the same.
        let second = cache.mark
        cache.evict(userID: read.session.userID)
        #expect(!cache.store(read, for: hash, ifUnchangedSince: second))
        // With no eviction of it between, it is kept.
        #expect(cache.store(read, for: hash, ifUnchangedSince: cache.mark))
        #expect(cache.entry(hash) != nil)
    }

    /// Review round 5: with one count for every eviction, anyone could keep every session out
    /// of the cache by signing out made-up cookies while reads were under way.
    @Test("evicting other sessions and users does not keep a session out of the cache")
    func otherEvictions() throws {
        let cache = SessionCache()
        let hash = Self.cached(cache)
        let read = try #require(cache.entry(hash))
        let before = cache.mark
        for byte in UInt8(10)..<UInt8(60) { cache.evict(try #require(SessionIDHash(bytes: Array(repeating: byte, count: 32)))) }
        cache.evict(userID: "someone-else")
        #expect(cache.store(read, for: hash, ifUnchangedSince: before))
        #expect(cache.isUnchanged(hash, userID: read.session.userID, since: before))
        // A policy change still counts for an answer in hand.
        cache.policyDidChange()
        #expect(!cache.isUnchanged(hash, userID: read.session.userID, since: before))
    }

    @Test("an unknown session claims nothing")
    func unknownSession() {
        let cache = SessionCache()
        let hash = SessionIDHash(bytes: Array(repeating: 9, count: 32))!
        #expect(cache.claimAddressChange(hash, client: .literal("2001:db8::1"), location: Self.tokyo, now: Self.t0, interval: 5) == nil)
    }

    @Test("a session waiting for a step-up is sent to the login with reauth=1; MFA with mfa=1; others with neither")
    func redirects() {
        #expect(LoginRedirect.location(returningTo: "/app?x=1", reason: "step_up_required") == "/_portcullis/login?rd=/app%3Fx%3D1&reauth=1")
        #expect(LoginRedirect.location(returningTo: "/app", reason: "mfa_required") == "/_portcullis/login?rd=/app&mfa=1")
        #expect(LoginRedirect.location(returningTo: "/app", reason: "login_required") == "/_portcullis/login?rd=/app")
        #expect(ReasonCode.stepUpRequired.explanation.contains("sign in again"))
    }
}
