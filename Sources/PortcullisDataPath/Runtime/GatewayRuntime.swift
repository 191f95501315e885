import Crypto
import Foundation
import Logging
import NIOCore
import PortcullisCore
import Synchronization

/// The state the data path shares across event loops: the current snapshot (swapped on
/// reload), the authenticator, metrics and the access log.
package final class GatewayRuntime: ActivePolicy {
    private let current: Mutex<GatewaySnapshot>
    package let authenticator: (any RequestAuthenticator)?
    package let metrics: GatewayMetrics
    package let accessLog: AccessLog
    package let logger: Logger
    /// Where `/_portcullis/` requests go: the control plane's loopback listener.
    private let controlPlaneAddress: Mutex<Upstream?>

    package init(
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

    package var snapshot: GatewaySnapshot { current.withLock { $0 } }

    package var configuration: GatewayConfiguration { snapshot.configuration }

    package var policy: AccessPolicy { snapshot.policy }

    package func replace(snapshot: GatewaySnapshot) {
        current.withLock { $0 = snapshot }
    }

    package var controlPlane: Upstream? { controlPlaneAddress.withLock { $0 } }

    /// A per-process secret the data path adds to requests for the control plane, so that the
    /// control plane can believe the client address it is told. Clients can never send it: every
    /// incoming `X-Portcullis-*` header is stripped first.
    package let controlPlaneToken: String = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64URLEncodedString() }

    package func setControlPlane(_ upstream: Upstream?) {
        controlPlaneAddress.withLock { $0 = upstream }
    }
}
