import Foundation
import Logging
import PortcullisCore
import ServiceLifecycle

/// Counts the store's active sessions every `interval` for `portcullis_active_sessions`. One
/// counting query per interval; a failed count leaves the last value and is logged at debug
/// level (the change watcher already reports an unreachable store).
package struct ActiveSessionsSampler: Service {
    private let store: any SessionStore
    private let metrics: SessionMetrics
    private let idleTimeout: @Sendable () -> Duration
    private let interval: Duration
    private let now: @Sendable () -> Date
    private let logger: Logger

    /// - Parameter idleTimeout: read at every count, so a reload's `sessions.idle_timeout` applies.
    package init(
        store: any SessionStore, metrics: SessionMetrics, idleTimeout: @escaping @Sendable () -> Duration,
        interval: Duration = .seconds(15), now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.store = store
        self.metrics = metrics
        self.idleTimeout = idleTimeout
        self.interval = interval
        self.now = now
        self.logger = logger
    }

    package func run() async throws {
        while !Task.isCancelled {
            await sample()
            do {
                let interval = self.interval
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
        }
    }

    /// One count, now.
    package func sample() async {
        do {
            metrics.recordActiveSessions(try await store.countActiveSessions(now: now(), idleTimeout: idleTimeout()))
        } catch {
            logger.debug("active sessions not counted", metadata: ["error": "\(error)"])
        }
    }
}
