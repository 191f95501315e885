import Foundation
import Logging
import NIOCore
import PortcullisCore
import Synchronization

/// The state the data path shares across event loops: the current snapshot (swapped on
/// reload), the authenticator, metrics and the access log.
public final class GatewayRuntime: Sendable {
    private let current: Mutex<GatewaySnapshot>
    public let authenticator: (any RequestAuthenticator)?
    public let metrics: GatewayMetrics
    public let accessLog: AccessLog
    public let logger: Logger
    /// Where `/_portcullis/` requests go: the control plane's loopback listener.
    private let controlPlaneAddress: Mutex<Upstream?>

    public init(
        snapshot: GatewaySnapshot,
        authenticator: (any RequestAuthenticator)?,
        metrics: GatewayMetrics,
        accessLog: AccessLog,
        logger: Logger,
        controlPlane: Upstream? = nil
    ) {
        current = Mutex(snapshot)
        self.authenticator = authenticator
        self.metrics = metrics
        self.accessLog = accessLog
        self.logger = logger
        controlPlaneAddress = Mutex(controlPlane)
    }

    public var snapshot: GatewaySnapshot { current.withLock { $0 } }

    public func replace(snapshot: GatewaySnapshot) {
        current.withLock { $0 = snapshot }
    }

    public var controlPlane: Upstream? { controlPlaneAddress.withLock { $0 } }

    /// A per-process secret the data path adds to requests for the control plane, so that the
    /// control plane can believe the client address it is told. Clients can never send it: every
    /// incoming `X-Portcullis-*` header is stripped first.
    public let controlPlaneToken: String = ControlPlaneHeaders.makeToken()

    func controlPlaneHeaders(for exchange: Exchange, decision: AccessDecision) -> [(String, String)] {
        var headers = [
            (ControlPlaneHeaders.token, controlPlaneToken),
            (ControlPlaneHeaders.clientAddress, exchange.client.description),
        ]
        switch exchange.authentication.identity {
        case .user(let user):
            let now = Date()
            if user.isValid(at: now) {
                headers.append((ControlPlaneHeaders.callerUser, user.userID))
                headers.append((ControlPlaneHeaders.callerMethod, user.method.rawValue))
                if let credential = user.credentialID { headers.append((ControlPlaneHeaders.callerCredential, credential)) }
                headers.append((ControlPlaneHeaders.callerMFA, user.hasMFA ? "1" : "0"))
            } else {
                let reason: ReasonCode = user.revokedAt != nil
                    ? (user.method == .oidc ? .sessionRevoked : .tokenRevoked)
                    : (user.method == .oidc ? .sessionExpired : .tokenExpired)
                headers.append((ControlPlaneHeaders.callerRejected, reason.rawValue))
            }
        case .rejected(let reason):
            headers.append((ControlPlaneHeaders.callerRejected, reason.rawValue))
        case .anonymous:
            break
        }
        return headers
    }

    public func setControlPlane(_ upstream: Upstream?) {
        controlPlaneAddress.withLock { $0 = upstream }
    }
}
