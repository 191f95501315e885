import NIOCore
import NIOHTTP1
import PortcullisCore
import Synchronization

/// A connection's last signed-in answer, given again to its next requests that carry exactly
/// the same credential headers from the same client address, without asking the authenticator
/// (no hash, no cache lock, no store): a browser or an API client sends the same cookie or
/// token on every request of a keep-alive connection.
///
/// Reused only while all of these hold, else the authenticator is asked as before:
/// - the `Cookie`, `Authorization` and `X-Portcullis-Act-As` headers are byte for byte the
///   ones answered (each at most once);
/// - the client address is the same (an address change is the authenticator's to report);
/// - the authenticator's ``RequestAuthenticator/credentialGeneration`` has not moved: every
///   policy change and every eviction (a sign-out here, a revocation broadcast by another
///   instance) moves it, so a revoked credential is refused on the very next request, and so
///   does a change of the assertion signing keys (no assertion signed by a rotated-out key is
///   handed on after the rotation);
/// - ``Authentication/reusableUntil`` has not passed (`max_staleness` after the store was read,
///   and before the next last-seen or last-use write is due).
/// Expiry is still checked on every request by the policy, which receives the same user.
final class CredentialMemo {
    /// The headers an authenticator reads, as the client sent them.
    struct Credential: Equatable {
        var cookie: String?
        var authorization: String?
        var actAs: String?

        /// `nil` when one of them appears more than once (never reused).
        init?(_ headers: HTTPHeaders) {
            for (name, value) in headers {
                switch name.utf8.count {
                case 6 where RequestFraming.isExactly(name, "cookie"):
                    guard cookie == nil else { return nil }
                    cookie = value
                case 13 where RequestFraming.isExactly(name, "authorization"):
                    guard authorization == nil else { return nil }
                    authorization = value
                case 19 where RequestFraming.isExactly(name, "x-portcullis-act-as"):
                    guard actAs == nil else { return nil }
                    actAs = value
                default:
                    continue
                }
            }
        }
    }

    let credential: Credential
    let client: IPAddress
    let generation: UInt64
    let until: ContinuousClock.Instant
    let authentication: Authentication

    /// - Parameter generation: the authenticator's generation read before it was asked.
    init?(credential: Credential, client: IPAddress, generation: UInt64, authentication: Authentication) {
        guard let until = authentication.reusableUntil, case .user = authentication.identity else { return nil }
        self.credential = credential
        self.client = client
        self.generation = generation
        self.until = until
        self.authentication = Self.rememberingHeaders(authentication)
    }

    func answers(_ credential: Credential, client: IPAddress, generation: UInt64, now: ContinuousClock.Instant) -> Bool {
        generation == self.generation && now < until && client == self.client && credential == self.credential
    }

    /// The identity headers (and their signed assertion) for a route are computed once for the
    /// memo and reused for at most ``headerReuse``: the assertion lives 60 s, and
    /// ``UpstreamIdentity`` already reuses one for up to 30 s.
    static let headerReuse: Duration = .seconds(10)

    private static func rememberingHeaders(_ authentication: Authentication) -> Authentication {
        let compute = authentication.upstreamHeaders
        let remembered = RememberedHeaders()
        var reused = authentication
        reused.upstreamHeaders = { route in
            let now = ContinuousClock.now
            if let headers = remembered.headers(for: route.name, now: now) { return headers }
            let headers = compute(route)
            remembered.remember(headers, for: route.name, until: now.advanced(by: headerReuse))
            return headers
        }
        return reused
    }

    /// The identity headers computed for the routes one connection's credential went to.
    private final class RememberedHeaders: Sendable {
        private struct Entry {
            var route: String
            var headers: [(String, String)]
            var until: ContinuousClock.Instant
        }

        /// Locked only by the connection's own event loop: never contended.
        private let entries = Mutex<[Entry]>([])

        func headers(for route: String, now: ContinuousClock.Instant) -> [(String, String)]? {
            entries.withLock { entries in
                guard let entry = entries.first(where: { $0.route == route }), now < entry.until else { return nil }
                return entry.headers
            }
        }

        func remember(_ headers: [(String, String)], for route: String, until: ContinuousClock.Instant) {
            entries.withLock { entries in
                if entries.count >= 8 { entries.removeAll() }
                entries.removeAll { $0.route == route }
                entries.append(Entry(route: route, headers: headers, until: until))
            }
        }
    }
}
