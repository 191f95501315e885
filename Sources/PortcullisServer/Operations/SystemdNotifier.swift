#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// Tells systemd how the service is doing (`Type=notify`, sd_notify(3)): one datagram to the
/// Unix socket named by `NOTIFY_SOCKET`, as `KEY=VALUE` lines. A path starting with `@` is in
/// the abstract namespace. Without `NOTIFY_SOCKET` (not started by systemd) there is no
/// notifier and nothing is sent.
///
/// Sending never blocks (`MSG_DONTWAIT`) and a failure is only returned, never thrown: the
/// gateway runs the same whether or not systemd listens.
package struct SystemdNotifier: Sendable {
    /// The socket's path as given in `NOTIFY_SOCKET`.
    package let socketPath: String

    /// `nil` when `NOTIFY_SOCKET` is unset or empty, or names neither a path nor an abstract
    /// socket.
    package init?(environment: [String: String]) {
        guard let path = environment["NOTIFY_SOCKET"] else { return nil }
        self.init(socketPath: path)
    }

    package init?(socketPath: String) {
        guard socketPath.hasPrefix("/") || socketPath.hasPrefix("@"), socketPath.utf8.count > 1 else { return nil }
        self.socketPath = socketPath
    }

    /// The service is up: listeners bound, store open.
    @discardableResult
    package func ready(status: String? = nil) -> Bool {
        send(["READY=1"] + (status.map { ["STATUS=\($0)"] } ?? []))
    }

    /// A reload started (SIGHUP); send ``ready(status:)`` when it is done, whatever its outcome.
    /// `MONOTONIC_USEC` lets systemd tie the message to the reload it asked for.
    @discardableResult
    package func reloading() -> Bool {
        send(["RELOADING=1", "MONOTONIC_USEC=\(Self.monotonicMicroseconds())"])
    }

    /// Graceful shutdown started.
    @discardableResult
    package func stopping() -> Bool {
        send(["STOPPING=1"])
    }

    /// Sends the lines as one datagram; answers whether it went out.
    @discardableResult
    package func send(_ lines: [String]) -> Bool {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        let abstract = path.first == UInt8(ascii: "@")
        if abstract { path[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        // A filesystem path needs room for its terminating NUL; an abstract name does not.
        guard path.count < capacity || (abstract && path.count <= capacity) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path)
        }
        let length = socklen_t(MemoryLayout.offset(of: \sockaddr_un.sun_path) ?? 2) + socklen_t(abstract ? path.count : path.count + 1)

        #if canImport(Darwin)
        let descriptor = socket(AF_UNIX, SOCK_DGRAM, 0)
        #else
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #endif
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        let message = Array((lines.joined(separator: "\n") + "\n").utf8)
        let sent = message.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), socketAddress, length)
                }
            }
        }
        return sent == message.count
    }

    /// `CLOCK_MONOTONIC` in microseconds, the clock systemd compares reloads against.
    /// (NIO's deadlines read that clock.)
    static func monotonicMicroseconds() -> UInt64 {
        NIODeadline.now().uptimeNanoseconds / 1_000
    }
}
